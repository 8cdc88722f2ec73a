//! The identity service over gRPC, on a real Postgres.

use platform::service::Service as _;
use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use socsec_proto::{
    common::v1::{EventCursor, Gender, PageRequest, PartnerKind},
    identity::v1::{self as pb, identity_event::Event},
};
use system_tests::{
    as_caller, bad_fields, fresh_database, identity_client, identity_config, ids, journeys, logs,
    operator, reason, spawn_identity, spawn_identity_with, test_clock, with_token,
};
use tonic::Code;
use tonic_types::StatusExt;

fn info(name: &str, gender: Gender) -> pb::BasicInfo {
    journeys::basic_info(name, gender)
}

fn registration(
    request_id: &str,
    id_number: &str,
    info: pb::BasicInfo,
) -> pb::RegisterPersonRequest {
    pb::RegisterPersonRequest {
        request_id: request_id.into(),
        id_number: id_number.into(),
        basic_info: Some(info),
    }
}

async fn register(client: &mut journeys::Identity, name: &str) -> pb::Person {
    journeys::register(client, name).await
}

#[tokio::test]
async fn a_valid_person_registers_unconfirmed_with_a_masked_number() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let id = ids::id_number(false);

    let person = client
        .register_person(operator(registration(
            "r-1",
            &id,
            info("王芳", Gender::Female),
        )))
        .await
        .unwrap()
        .into_inner();

    assert_eq!(person.id_number, id);
    assert_eq!(
        person.masked_id_number.unwrap().masked,
        format!("{}********{}", &id[..6], &id[14..])
    );
    assert_eq!(person.status, pb::BasicInfoStatus::Unconfirmed as i32);
    assert_eq!(person.version, 1);
    assert_eq!(person.region_code, &id[..6]);
    assert_eq!(person.birth_date.unwrap().year, 1990);
    assert_eq!(person.basic_info.unwrap().name, "王芳");
}

#[tokio::test]
async fn each_kind_of_bad_input_names_its_field_and_reason() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let good = ids::id_number(true);
    let body = &good[..17];
    let cases = [
        (
            ids::with_wrong_check_character(body),
            info("张三", Gender::Male),
            "id_number",
            "ID_NUMBER_CHECK_CHARACTER",
        ),
        (
            ids::with_check_character("11010219900230001"),
            info("张三", Gender::Male),
            "id_number",
            "ID_NUMBER_BIRTH_DATE_INVALID",
        ),
        (
            ids::with_check_character("11010220990101001"),
            info("张三", Gender::Male),
            "id_number",
            "ID_NUMBER_BIRTH_DATE_IN_FUTURE",
        ),
        (
            good.clone(),
            info("张三", Gender::Female),
            "basic_info.gender",
            "GENDER_MISMATCH",
        ),
        (
            good.clone(),
            info("", Gender::Male),
            "basic_info.name",
            "NAME_EMPTY",
        ),
    ];
    for (i, (id_number, info, field, expected)) in cases.into_iter().enumerate() {
        let status = client
            .register_person(operator(registration(
                &format!("bad-{i}"),
                &id_number,
                info,
            )))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert_eq!(reason(&status), expected);
        assert_eq!(
            bad_fields(&status),
            vec![(field.to_owned(), expected.to_owned())]
        );
        assert!(
            !status.message().contains(&id_number),
            "the error repeats the ID number"
        );
    }
}

#[tokio::test]
async fn every_bad_field_is_reported_at_once() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let mut bad = info("", Gender::Unspecified);
    bad.phone = "12".into();
    bad.ethnicity = String::new();
    let status = client
        .register_person(operator(registration("", "123", bad)))
        .await
        .unwrap_err();
    let fields: Vec<String> = bad_fields(&status).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        [
            "request_id",
            "id_number",
            "basic_info.name",
            "basic_info.gender",
            "basic_info.ethnicity",
            "basic_info.phone"
        ]
    );
}

#[tokio::test]
async fn a_bad_id_number_in_a_look_up_of_many_is_named_by_its_place() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let good = ids::id_number(true);
    let wrong_check = ids::with_wrong_check_character(&ids::id_number(false)[..17]);
    let status = client
        .lookup_persons(as_caller(
            "service:card-issuance",
            pb::LookupPersonsRequest {
                id_numbers: vec![good, "123".into(), wrong_check],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = bad_fields(&status).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["id_numbers[1]", "id_numbers[2]"]);
}

#[tokio::test]
async fn a_second_registration_of_the_same_number_is_refused() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let id = ids::id_number(true);
    client
        .register_person(operator(registration(
            "first",
            &id,
            info("李雷", Gender::Male),
        )))
        .await
        .unwrap();
    let status = client
        .register_person(operator(registration(
            "second",
            &id,
            info("李雷", Gender::Male),
        )))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(reason(&status), "PERSON_ALREADY_REGISTERED");
}

/// The refusal of a duplicate leaves nothing of the person in the database
/// server's log (it used to log `DETAIL: Key (id_number)=(…) already
/// exists`): the insert does not fail on the conflict, and the server is
/// configured to log no row values. The same for a partner's credit code.
#[tokio::test]
async fn a_duplicate_leaves_no_personal_data_in_the_database_log() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let id = ids::id_number(true);
    for request_id in ["dup-1", "dup-2"] {
        let _ = client
            .register_person(operator(registration(
                request_id,
                &id,
                info("司马光", Gender::Male),
            )))
            .await;
    }
    let status = client
        .register_person(operator(registration(
            "dup-3",
            &id,
            info("司马迁", Gender::Male),
        )))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(reason(&status), "PERSON_ALREADY_REGISTERED");
    let credit_code = pii::CreditCode::from_body("91110000069698468").unwrap();
    for (request_id, code) in [
        ("dup-partner-1", "EMP-DUP-A"),
        ("dup-partner-2", "EMP-DUP-B"),
    ] {
        let mut employer = partner(request_id, code, PartnerKind::Employer);
        employer.credit_code = credit_code.as_str().to_owned();
        let answer = client.register_partner(operator(employer)).await;
        if code == "EMP-DUP-B" {
            assert_eq!(reason(&answer.unwrap_err()), "PARTNER_ALREADY_REGISTERED");
        } else {
            answer.unwrap();
        }
    }

    let found = logs::personal_data_in_database_log(&[&id, "司马光", "司马迁"]);
    assert!(
        found.is_empty(),
        "{} ID numbers, names or addresses in the database server's log",
        found.len()
    );
}

#[tokio::test]
async fn a_retry_returns_the_first_answer_and_a_reused_id_is_refused() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let id = ids::id_number(true);
    let request = registration("serial-0001", &id, info("韩梅梅", Gender::Male));

    let first = client
        .register_person(operator(request.clone()))
        .await
        .unwrap()
        .into_inner();
    let retry = client
        .register_person(operator(request.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, retry);

    let other = registration(
        "serial-0001",
        &ids::id_number(true),
        info("韩梅梅", Gender::Male),
    );
    let status = client.register_person(operator(other)).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(reason(&status), "REQUEST_ID_REUSED");

    // The same serial from another caller is that caller's own.
    let status = client
        .register_person(as_caller("operator:OP0002", request))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "PERSON_ALREADY_REGISTERED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_register_one_person() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let client = identity_client(&service).await;
    let request = registration(
        "burst-1",
        &ids::id_number(false),
        info("赵敏", Gender::Female),
    );
    let calls = (0..16).map(|_| {
        let mut client = client.clone();
        let request = request.clone();
        tokio::spawn(async move { client.register_person(operator(request)).await })
    });
    let answers: Vec<pb::Person> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| {
            r.unwrap()
                .expect("every retry gets the answer")
                .into_inner()
        })
        .collect();
    assert!(answers.windows(2).all(|w| w[0] == w[1]));
}

#[tokio::test]
async fn corrections_keep_every_version_and_need_a_new_confirmation() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let person = register(&mut client, "张伟").await;

    let confirmed = client
        .confirm_basic_info(operator(pb::ConfirmBasicInfoRequest {
            request_id: "c-1".into(),
            person_id: person.person_id.clone(),
            version: 1,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(confirmed.status, pb::BasicInfoStatus::Confirmed as i32);

    let mut corrected_info = info("张玮", Gender::Male);
    corrected_info.phone = "010-66012345".into();
    let corrected = client
        .correct_basic_info(operator(pb::CorrectBasicInfoRequest {
            request_id: "fix-1".into(),
            person_id: person.person_id.clone(),
            basic_info: Some(corrected_info),
            reason: "name misspelt at registration".into(),
            evidence_ref: "HUKOU-2026-0042".into(),
            version: 1,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(corrected.version, 2);
    assert_eq!(corrected.status, pb::BasicInfoStatus::Unconfirmed as i32);
    assert_eq!(corrected.basic_info.unwrap().name, "张玮");

    let versions = client
        .list_basic_info_versions(operator(pb::ListBasicInfoVersionsRequest {
            person_id: person.person_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .versions;
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].version, 2);
    assert_eq!(versions[0].reason, "name misspelt at registration");
    assert_eq!(versions[0].evidence_ref, "HUKOU-2026-0042");
    assert_eq!(versions[0].changed_by, "operator:OP0001");
    assert_eq!(versions[1].basic_info.as_ref().unwrap().name, "张伟");

    // Confirming the old version is refused; the new one is accepted.
    let stale = client
        .confirm_basic_info(operator(pb::ConfirmBasicInfoRequest {
            request_id: "c-2".into(),
            person_id: person.person_id.clone(),
            version: 1,
        }))
        .await
        .unwrap_err();
    assert_eq!(reason(&stale), "VERSION_MISMATCH");
    let again = client
        .confirm_basic_info(operator(pb::ConfirmBasicInfoRequest {
            request_id: "c-3".into(),
            person_id: person.person_id.clone(),
            version: 2,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.status, pb::BasicInfoStatus::Confirmed as i32);
}

#[tokio::test]
async fn a_correction_cannot_contradict_the_id_number() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let person = register(&mut client, "刘洋").await;
    let status = client
        .correct_basic_info(operator(pb::CorrectBasicInfoRequest {
            request_id: "fix-g".into(),
            person_id: person.person_id,
            basic_info: Some(info("刘洋", Gender::Female)),
            reason: "gender".into(),
            evidence_ref: "E-1".into(),
            version: 1,
        }))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        vec![("basic_info.gender".into(), "GENDER_MISMATCH".into())]
    );
}

#[tokio::test]
async fn the_audit_trail_shows_every_read_and_change() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    journeys::register_partner(&mut client, "ICBC", PartnerKind::Bank, "").await;
    journeys::register_partner(&mut client, "ICBC-0101", PartnerKind::BankOutlet, "ICBC").await;
    let person = register(&mut client, "陈静").await;

    client
        .get_person(as_caller(
            "service:card-issuance",
            pb::GetPersonRequest {
                person_id: person.person_id.clone(),
            },
        ))
        .await
        .unwrap();
    client
        .lookup_person(operator(pb::LookupPersonRequest {
            id_number: person.id_number.clone(),
        }))
        .await
        .unwrap();
    client
        .verify_identity(as_caller(
            "bank_outlet:ICBC-0101",
            pb::VerifyIdentityRequest {
                id_number: person.id_number.clone(),
                name: "陈静".into(),
            },
        ))
        .await
        .unwrap();

    let records = system_tests::audit_trail(&service, &person.person_id).await;
    let seen: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|r| (r.actor.as_str(), r.action.as_str(), r.access.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("operator:OP0001", "RegisterPerson", "CHANGE"),
            ("service:card-issuance", "GetPerson", "READ"),
            ("operator:OP0001", "LookupPerson", "READ"),
            ("bank_outlet:ICBC-0101", "VerifyIdentity", "READ"),
            ("operator:OP0001", "ListAuditRecords", "READ"),
        ]
    );
    assert!(
        records
            .iter()
            .all(|r| r.service == "socsec.identity.v1.IdentityService")
    );
    assert!(records.iter().all(|r| r.person_id == person.person_id));
    assert!(records[0].request_id.starts_with("reg-"));
}

#[tokio::test]
async fn the_audit_trail_pages() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let person = register(&mut client, "孙丽").await;
    for _ in 0..4 {
        client
            .get_person(operator(pb::GetPersonRequest {
                person_id: person.person_id.clone(),
            }))
            .await
            .unwrap();
    }
    let mut token = String::new();
    let mut total = 0;
    let mut audit = socsec_proto::audit::v1::audit_service_client::AuditServiceClient::new(
        service.channel().await,
    );
    // Five entries, and the query's own (written with its first page).
    for expected in [2, 2, 2, 0] {
        let page = audit
            .list_audit_records(operator(socsec_proto::audit::v1::ListAuditRecordsRequest {
                person_id: person.person_id.clone(),
                page: Some(PageRequest {
                    page_size: 2,
                    page_token: token.clone(),
                }),
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.records.len(), expected);
        total += page.records.len();
        token = page.page.unwrap().next_page_token;
    }
    assert_eq!(total, 6);
    assert!(token.is_empty());
}

#[tokio::test]
async fn verify_identity_answers_match_or_no_match_and_nothing_else() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    journeys::register_partner(&mut client, "12333-BJ", PartnerKind::HotlineCenter, "").await;
    let person = register(&mut client, "周杰").await;
    let ask = |name: &str, id_number: &str| {
        as_caller(
            "hotline_center:12333-BJ",
            pb::VerifyIdentityRequest {
                id_number: id_number.into(),
                name: name.into(),
            },
        )
    };
    let yes = client
        .verify_identity(ask("周杰", &person.id_number))
        .await
        .unwrap()
        .into_inner();
    assert!(yes.r#match);
    // A partner learns that the pair matches, not who the person is.
    assert!(yes.person_id.is_empty());
    let no = client
        .verify_identity(ask("周洁", &person.id_number))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(no, pb::VerifyIdentityResponse::default());
    let unknown = client
        .verify_identity(ask("周杰", &ids::id_number(true)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unknown, pb::VerifyIdentityResponse::default());
}

#[tokio::test]
async fn callers_may_only_call_what_their_kind_is_for() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let request = registration("x-1", &ids::id_number(true), info("吴磊", Gender::Male));

    let status = client
        .register_person(as_caller("bank_outlet:ICBC-0101", request.clone()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(reason(&status), "CALLER_KIND_NOT_ALLOWED");

    let status = client
        .register_person(tonic::Request::new(request.clone()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(reason(&status), "CREDENTIAL_MISSING");

    let status = client
        .register_person(as_caller("nobody:x", request.clone()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(reason(&status), "CERTIFICATE_IDENTITY_INVALID");

    let status = socsec_proto::audit::v1::audit_service_client::AuditServiceClient::new(
        service.channel().await,
    )
    .list_audit_records(as_caller(
        "hospital:H-001",
        socsec_proto::audit::v1::ListAuditRecordsRequest::default(),
    ))
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn plaintext_and_development_credentials_only_when_configured() {
    use tonic::{metadata::MetadataValue, transport::Endpoint};

    let database = fresh_database().await;
    let plaintext = |dev_credentials: bool| {
        let mut config = identity_config(&database);
        config.platform.plaintext = true;
        config.platform.dev_credentials = dev_credentials;
        config
    };
    let as_operator = |request_id: &str| {
        let mut request = tonic::Request::new(registration(
            request_id,
            &ids::id_number(true),
            info("郑爽", Gender::Male),
        ));
        request.metadata_mut().insert(
            platform::auth::DEV_CALLER_HEADER,
            MetadataValue::from_static("operator:OP0001"),
        );
        request
    };
    for (dev_credentials, request_id) in [(true, "d-1"), (false, "d-2")] {
        let service = spawn_identity_with(plaintext(dev_credentials), Arc::new(test_clock())).await;
        let channel = Endpoint::from_shared(format!("http://{}", service.addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let answer = pb::identity_service_client::IdentityServiceClient::new(channel)
            .register_person(as_operator(request_id))
            .await;
        if dev_credentials {
            answer.expect("accepted with dev_credentials on");
        } else {
            let status = answer.unwrap_err();
            assert_eq!(status.code(), Code::Unauthenticated);
            assert_eq!(reason(&status), "DEV_CREDENTIALS_DISABLED");
        }
    }
}

#[tokio::test]
async fn a_password_request_id_reused_with_another_password_is_refused() {
    let clock = test_clock();
    let service = spawn_identity(Arc::new(clock.clone())).await;
    let mut client = identity_client(&service).await;
    let person = register(&mut client, "林峰").await;
    let set = |password: &str| {
        operator(pb::SetOnlinePasswordRequest {
            request_id: "pw-once".into(),
            id_number: person.id_number.clone(),
            password: password.into(),
        })
    };
    let first = client.set_online_password(set("Spring2026")).await.unwrap();
    let retried = client.set_online_password(set("Spring2026")).await.unwrap();
    assert_eq!(retried.into_inner(), first.into_inner());
    let reused = client
        .set_online_password(set("Autumn2026"))
        .await
        .unwrap_err();
    assert_eq!(
        (reused.code(), reason(&reused)),
        (Code::FailedPrecondition, "REQUEST_ID_REUSED".into())
    );
    // The first password stands.
    let sign_in = |password: &str| pb::SignInRequest {
        id_number: person.id_number.clone(),
        password: password.into(),
    };
    client.sign_in(sign_in("Spring2026")).await.unwrap();
    client.sign_in(sign_in("Autumn2026")).await.unwrap_err();
}

#[tokio::test]
async fn a_person_signs_in_and_sees_only_their_own_record() {
    let clock = test_clock();
    let service = spawn_identity(Arc::new(clock.clone())).await;
    let mut client = identity_client(&service).await;
    let person = register(&mut client, "林峰").await;
    let other = register(&mut client, "林木").await;

    client
        .set_online_password(operator(pb::SetOnlinePasswordRequest {
            request_id: "pw-1".into(),
            id_number: person.id_number.clone(),
            password: "Spring2026".into(),
        }))
        .await
        .unwrap();
    let session = client
        .sign_in(pb::SignInRequest {
            id_number: person.id_number.clone(),
            password: "Spring2026".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(session.person_id, person.person_id);

    let own = client
        .get_person(with_token(
            &session.token,
            pb::GetPersonRequest {
                person_id: person.person_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.id_number, person.id_number);

    let status = client
        .get_person(with_token(
            &session.token,
            pb::GetPersonRequest {
                person_id: other.person_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(reason(&status), "NOT_OWN_RECORD");

    // The person confirms their own information with the token.
    let confirmed = client
        .confirm_basic_info(with_token(
            &session.token,
            pb::ConfirmBasicInfoRequest {
                request_id: "self-confirm".into(),
                person_id: person.person_id.clone(),
                version: 1,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(confirmed.status, pb::BasicInfoStatus::Confirmed as i32);

    // A person may not register anyone.
    let status = client
        .register_person(with_token(
            &session.token,
            registration("p-1", &ids::id_number(true), info("林森", Gender::Male)),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "CALLER_KIND_NOT_ALLOWED");

    // The token expires.
    clock.advance(chrono::Duration::minutes(16));
    let status = client
        .get_person(with_token(
            &session.token,
            pb::GetPersonRequest {
                person_id: person.person_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(reason(&status), "SESSION_EXPIRED");
}

#[tokio::test]
async fn repeated_sign_in_failures_delay_the_next_attempt_longer_each_time() {
    let clock = test_clock();
    let service = spawn_identity(Arc::new(clock.clone())).await;
    let mut client = identity_client(&service).await;
    let person = register(&mut client, "马超").await;
    client
        .set_online_password(operator(pb::SetOnlinePasswordRequest {
            request_id: "pw-2".into(),
            id_number: person.id_number.clone(),
            password: "Autumn2026".into(),
        }))
        .await
        .unwrap();
    let attempt = |password: &str| pb::SignInRequest {
        id_number: person.id_number.clone(),
        password: password.into(),
    };

    for _ in 0..4 {
        let status = client.sign_in(attempt("wrong-1")).await.unwrap_err();
        assert_eq!(reason(&status), "SIGN_IN_FAILED");
    }
    let mut delays = Vec::new();
    for _ in 0..3 {
        let status = client.sign_in(attempt("wrong-1")).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(reason(&status), "SIGN_IN_DELAYED");
        let delay = status
            .get_details_retry_info()
            .unwrap()
            .retry_delay
            .unwrap();
        delays.push(delay.as_secs());
        // Even the right password is refused, unjudged, during the delay.
        let status = client.sign_in(attempt("Autumn2026")).await.unwrap_err();
        assert_eq!(reason(&status), "SIGN_IN_DELAYED");
        clock.advance(chrono::Duration::from_std(delay).unwrap());
    }
    assert_eq!(delays, [1, 2, 4], "each delay doubles");
    client
        .sign_in(attempt("Autumn2026"))
        .await
        .expect("the right password once the delay has passed");

    // An unknown ID number fails the same way as a wrong password, delays too.
    let unknown = ids::id_number(true);
    let mut reasons = Vec::new();
    for _ in 0..6 {
        let status = client
            .sign_in(pb::SignInRequest {
                id_number: unknown.clone(),
                password: "Autumn2026".into(),
            })
            .await
            .unwrap_err();
        reasons.push(reason(&status));
    }
    assert_eq!(
        reasons,
        [
            "SIGN_IN_FAILED",
            "SIGN_IN_FAILED",
            "SIGN_IN_FAILED",
            "SIGN_IN_FAILED",
            "SIGN_IN_DELAYED",
            "SIGN_IN_DELAYED"
        ]
    );
}

/// Sign-in verifies the password with no lock held, then records the outcome
/// only if the credential is still as it read it: concurrent failures are
/// each counted once, as if they had come one after another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sign_in_failures_each_count_once() {
    let clock = test_clock();
    let service = spawn_identity(Arc::new(clock.clone())).await;
    let mut client = identity_client(&service).await;
    let person = register(&mut client, "黄蓉").await;
    client
        .set_online_password(operator(pb::SetOnlinePasswordRequest {
            request_id: "pw-3".into(),
            id_number: person.id_number.clone(),
            password: "Winter2026".into(),
        }))
        .await
        .unwrap();
    let attempts = (0..8).map(|_| {
        let mut client = client.clone();
        let id_number = person.id_number.clone();
        tokio::spawn(async move {
            client
                .sign_in(pb::SignInRequest {
                    id_number,
                    password: "wrong-2".into(),
                })
                .await
                .unwrap_err()
        })
    });
    let reasons: Vec<String> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|status| reason(&status.unwrap()))
        .collect();
    let failed = reasons.iter().filter(|r| *r == "SIGN_IN_FAILED").count();
    let delayed = reasons.iter().filter(|r| *r == "SIGN_IN_DELAYED").count();
    assert_eq!((failed, delayed), (4, 4), "{reasons:?}");
    let status = client
        .sign_in(pb::SignInRequest {
            id_number: person.id_number.clone(),
            password: "Winter2026".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "SIGN_IN_DELAYED");
}

fn partner(request_id: &str, code: &str, kind: PartnerKind) -> pb::RegisterPartnerRequest {
    pb::RegisterPartnerRequest {
        request_id: request_id.into(),
        code: code.into(),
        kind: kind as i32,
        name: format!("{code} 名称"),
        region_code: "110000".into(),
        designation_in_force: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn the_partner_registry_checks_what_each_kind_must_hold() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;

    client
        .register_partner(operator(partner("p-1", "ICBC", PartnerKind::Bank)))
        .await
        .unwrap();
    let outlet = client
        .register_partner(operator(pb::RegisterPartnerRequest {
            parent_code: "ICBC".into(),
            ..partner("p-2", "ICBC-0101", PartnerKind::BankOutlet)
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(outlet.parent_code, "ICBC");
    client
        .register_partner(operator(partner("p-3", "H-001", PartnerKind::Hospital)))
        .await
        .unwrap();

    let status = client
        .register_partner(operator(pb::RegisterPartnerRequest {
            parent_code: "H-001".into(),
            ..partner("p-4", "H-OUTLET", PartnerKind::BankOutlet)
        }))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "PARENT_NOT_A_BANK");

    let status = client
        .register_partner(operator(partner("p-5", "EMP-1", PartnerKind::Employer)))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        vec![("credit_code".into(), "FIELD_REQUIRED".into())]
    );

    let status = client
        .register_partner(operator(pb::RegisterPartnerRequest {
            credit_code: "914403001922038217".into(),
            ..partner("p-6", "EMP-1", PartnerKind::Employer)
        }))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        vec![("credit_code".into(), "CREDIT_CODE_CHECK_CHARACTER".into())]
    );

    let employer = client
        .register_partner(operator(pb::RegisterPartnerRequest {
            credit_code: "914403001922038216".into(),
            ..partner("p-7", "EMP-1", PartnerKind::Employer)
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(employer.kind, PartnerKind::Employer as i32);

    let status = client
        .register_partner(operator(partner("p-8", "ICBC", PartnerKind::Bank)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "PARTNER_ALREADY_REGISTERED");

    let withdrawn = client
        .set_partner_designation(operator(pb::SetPartnerDesignationRequest {
            request_id: "d-1".into(),
            code: "H-001".into(),
            designation_in_force: false,
            reason: "designation agreement ended".into(),
            collects_contributions: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(!withdrawn.designation_in_force);

    let seen = client
        .get_partner(as_caller(
            "hospital:H-001",
            pb::GetPartnerRequest {
                code: "H-001".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!seen.designation_in_force);

    let mut codes = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_partners(operator(pb::ListPartnersRequest {
                page: Some(PageRequest {
                    page_size: 2,
                    page_token: token,
                }),
                kind: 0,
            }))
            .await
            .unwrap()
            .into_inner();
        codes.extend(page.partners.into_iter().map(|p| p.code));
        token = page.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(codes, ["EMP-1", "H-001", "ICBC", "ICBC-0101"]);
}

#[tokio::test]
async fn the_event_stream_resumes_from_a_cursor_with_nothing_lost_or_repeated() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let watcher = as_caller(
        "service:activation",
        pb::WatchIdentityEventsRequest {
            after: None,
            heartbeats: false,
        },
    );

    let first = register(&mut client, "甲一").await;
    client
        .register_partner(operator(partner("e-1", "CCB", PartnerKind::Bank)))
        .await
        .unwrap();

    let mut stream = client
        .watch_identity_events(watcher)
        .await
        .unwrap()
        .into_inner();
    let a = stream.next().await.unwrap().unwrap();
    let b = stream.next().await.unwrap().unwrap();
    assert!(matches!(&a.event, Some(Event::PersonRegistered(e)) if e.person_id == first.person_id));
    assert!(
        matches!(&b.event, Some(Event::PartnerChanged(e)) if e.partner.as_ref().unwrap().code == "CCB")
    );
    // A change while connected arrives live.
    let second = register(&mut client, "乙二").await;
    let c = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        matches!(&c.event, Some(Event::PersonRegistered(e)) if e.person_id == second.person_id)
    );
    drop(stream);

    // Changes made while disconnected.
    let confirmed = client
        .confirm_basic_info(operator(pb::ConfirmBasicInfoRequest {
            request_id: "ev-c".into(),
            person_id: second.person_id.clone(),
            version: 1,
        }))
        .await
        .unwrap()
        .into_inner();
    let third = register(&mut client, "丙三").await;

    let mut resumed = client
        .watch_identity_events(as_caller(
            "service:activation",
            pb::WatchIdentityEventsRequest {
                after: Some(EventCursor {
                    cursor: c.cursor.clone(),
                }),
                heartbeats: false,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let d = resumed.next().await.unwrap().unwrap();
    let e = resumed.next().await.unwrap().unwrap();
    assert!(
        matches!(&d.event, Some(Event::BasicInfoConfirmed(x)) if x.person_id == confirmed.person_id && x.version == 1)
    );
    assert!(matches!(&e.event, Some(Event::PersonRegistered(x)) if x.person_id == third.person_id));
    // Nothing more: the stream waits for new events.
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), resumed.next())
            .await
            .is_err()
    );

    let cursors = [&a, &b, &c, &d, &e].map(|ev| ev.cursor.clone());
    let mut sorted = cursors.to_vec();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "every event has its own cursor");
    assert!(
        [&a, &b, &c, &d, &e]
            .iter()
            .all(|ev| ev.occurred_at.is_some())
    );
}

#[tokio::test]
async fn a_bad_cursor_is_refused() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let status = client
        .watch_identity_events(as_caller(
            "service:activation",
            pb::WatchIdentityEventsRequest {
                after: Some(EventCursor {
                    cursor: "not-a-cursor".into(),
                }),
                heartbeats: false,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        vec![("after.cursor".into(), "CURSOR_INVALID".into())]
    );
}

#[tokio::test]
async fn health_answers_serving_and_reflection_lists_the_service() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };

    let mut config = identity_config(&fresh_database().await);
    config.platform.reflection = true;
    let service = spawn_identity_with(config, Arc::new(test_clock())).await;
    let channel = service.channel().await;

    let mut health = HealthClient::new(channel.clone());
    let status = system_tests::eventually(
        "health to answer SERVING",
        Duration::from_secs(10),
        async || {
            let answer = health
                .check(HealthCheckRequest {
                    service: identity::SERVICE_NAME.into(),
                })
                .await
                .ok()?;
            let status = answer.into_inner().status();
            (status == ServingStatus::Serving).then_some(status)
        },
    )
    .await;
    assert_eq!(status, ServingStatus::Serving);

    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        responses.next().await.unwrap().unwrap().message_response
    else {
        panic!("expected a list of services");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&identity::SERVICE_NAME.to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
}

/// A stop drains: a call in flight when the stop comes completes, and
/// health says NOT_SERVING while it does.
#[tokio::test]
async fn the_service_stops_gracefully() {
    use sqlx::{Connection, PgConnection};
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };

    let database = fresh_database().await;
    let mut config = identity_config(&database);
    // Long enough that the call in flight is drained, never cut off.
    config.platform.drain_timeout_ms = 30_000;
    let service = spawn_identity_with(config, Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let person = register(&mut client, "钱七").await;

    // Health, watched from before the stop.
    let mut health = HealthClient::new(service.channel().await)
        .watch(HealthCheckRequest {
            service: identity::SERVICE_NAME.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut next_status = async move |wanted: ServingStatus| {
        let waiting = async {
            while let Some(Ok(answer)) = health.next().await {
                if answer.status() == wanted {
                    return true;
                }
            }
            false
        };
        tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .unwrap_or(false)
    };
    assert!(
        next_status(ServingStatus::Serving).await,
        "health says SERVING"
    );

    // A call in flight: the confirmation waits behind a lock the test holds.
    let mut lock = PgConnection::connect(&database).await.unwrap();
    sqlx::query("BEGIN").execute(&mut lock).await.unwrap();
    sqlx::query("LOCK TABLE identity.persons IN ACCESS EXCLUSIVE MODE")
        .execute(&mut lock)
        .await
        .unwrap();
    let in_flight = tokio::spawn({
        let mut client = client.clone();
        let request = pb::ConfirmBasicInfoRequest {
            request_id: "confirm-in-flight".into(),
            person_id: person.person_id.clone(),
            version: person.version,
        };
        async move { client.confirm_basic_info(operator(request)).await }
    });
    let mut watcher = PgConnection::connect(&database).await.unwrap();
    system_tests::eventually(
        "the confirmation to wait on the persons table",
        Duration::from_secs(10),
        async || {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(&mut watcher)
            .await
            .ok()?;
            (waiting > 0).then_some(())
        },
    )
    .await;

    let stopping = tokio::spawn(service.stop());
    assert!(
        next_status(ServingStatus::NotServing).await,
        "health says NOT_SERVING once the stop begins"
    );
    assert!(!in_flight.is_finished(), "the call is still in flight");
    assert!(!stopping.is_finished(), "the stop waits for the call");
    sqlx::query("COMMIT").execute(&mut lock).await.unwrap();
    let confirmed = in_flight
        .await
        .unwrap()
        .expect("the call in flight completes")
        .into_inner();
    assert_eq!(confirmed.status, pb::BasicInfoStatus::Confirmed as i32);
    // The health watch is a call in flight too: end it so the drain can.
    drop(next_status);
    stopping.await.unwrap().expect("clean stop");
    // Stopped: nothing answers any more.
    let after = client
        .get_person(operator(pb::GetPersonRequest {
            person_id: person.person_id.clone(),
        }))
        .await
        .unwrap_err();
    assert_eq!(after.code(), Code::Unavailable, "{after:?}");
}

#[tokio::test]
async fn bad_configuration_is_refused_before_any_port_opens() {
    // The test holds the configured port: a service that bound it before
    // checking its settings would be refused for the port instead.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap();

    let mut config = identity_config("mysql://nope");
    config.platform.listen_addr = addr;
    let err = identity::Application::build(config, Arc::new(test_clock()))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("database_url"), "{err}");

    let mut config = identity_config(&fresh_database().await);
    config.platform.listen_addr = addr;
    config.platform.session_token_secret = None;
    let err = identity::Application::build(config, Arc::new(test_clock()))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("session_token_secret"), "{err}");

    // The port is still the test's alone: a connection to it reaches the
    // test's listener.
    let caller = std::net::TcpStream::connect(addr).unwrap();
    let (_, peer) = held.accept().unwrap();
    assert_eq!(peer, caller.local_addr().unwrap());
}

#[tokio::test]
async fn no_full_id_number_appears_in_the_logs() {
    let service = spawn_identity(Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let person = register(&mut client, "冯宁").await;
    client
        .lookup_person(operator(pb::LookupPersonRequest {
            id_number: person.id_number.clone(),
        }))
        .await
        .unwrap();
    let wrong = ids::with_wrong_check_character(&person.id_number[..17]);
    let _ = client
        .lookup_person(operator(pb::LookupPersonRequest {
            id_number: wrong.clone(),
        }))
        .await;
    let _ = client
        .register_person(operator(registration(
            &format!("reg-{}", person.id_number),
            &person.id_number,
            info("冯宁", Gender::Male),
        )))
        .await;
    client
        .sign_in(pb::SignInRequest {
            id_number: person.id_number.clone(),
            password: "nope-123".into(),
        })
        .await
        .unwrap_err();

    let logs = logs::captured();
    assert!(logs.contains(&format!(
        "{}********{}",
        &person.id_number[..6],
        &person.id_number[14..]
    )));
    for secret in [
        &person.id_number,
        &wrong,
        &person.id_number[6..14].to_owned(),
    ] {
        assert!(
            !logs.contains(secret.as_str()),
            "a log line contains {}",
            &secret[..4]
        );
    }
}

#[tokio::test]
async fn reflection_is_off_unless_enabled() {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest,
    };
    let service = spawn_identity(Arc::new(test_clock())).await;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let status = ServerReflectionClient::new(service.channel().await)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
}

#[tokio::test]
async fn audit_entries_past_retention_are_purged_and_recent_ones_kept() {
    let database = fresh_database().await;
    let config = identity_config(&database);
    let service = spawn_identity_with(config.clone(), Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let person = register(&mut client, "周存").await;
    let pool = platform::db::connect(&config.platform).await.unwrap();
    // An entry written in the month eight months back (the database's clock
    // stamps entries), whose month partition is dropped with a retention of
    // 190 days. (The service's own hourly sweep keeps 366 days, so it cannot
    // race this test for the entry.)
    sqlx::query(
        "INSERT INTO audit_log (at, actor_kind, actor_code, action, access, subject_id)
         VALUES (date_trunc('month', now()) - interval '8 months', 'operator', 'OP0001',
                 'GetPerson', 'READ', $1)",
    )
    .bind(&person.person_id)
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        platform::retention::purge_audit(&pool, 190)
            .await
            .unwrap()
            .len(),
        1
    );
    let left: Vec<String> = system_tests::audit_trail(&service, &person.person_id)
        .await
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(left, ["RegisterPerson", "ListAuditRecords"]);
}

/// Refused like every other error (issue 14): `RESOURCE_EXHAUSTED` with a
/// reason and the limit, where tonic alone answers a bare `OUT_OF_RANGE`.
/// (This also notices a tonic that words its refusal differently: the host
/// recognises it by its message.)
#[tokio::test]
async fn messages_over_the_size_limit_are_refused() {
    let mut config = identity_config(&fresh_database().await);
    config.platform.max_message_bytes = 2048;
    let service = spawn_identity_with(config, Arc::new(test_clock())).await;
    let mut client = identity_client(&service).await;
    let mut big = info("郑爽", Gender::Male);
    big.address = "街".repeat(1000);
    let status = client
        .register_person(operator(registration("big-1", &ids::id_number(true), big)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(reason(&status), "MESSAGE_TOO_LARGE");
    let info = tonic_types::StatusExt::get_details_error_info(&status).unwrap();
    assert_eq!(info.metadata["max_message_bytes"], "2048");
    // The service goes on serving.
    register(&mut client, "郑小").await;
}
