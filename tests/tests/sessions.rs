//! Session tokens are revocable: signing out, an operator's revocation and
//! a password set at the counter end a session, and every service refuses
//! its token within the revocation delay (`platform::registry::SESSION_CACHE`);
//! signing keys rotate without logging anyone out.

use std::{sync::Arc, time::Duration};

use platform::registry::SESSION_CACHE;
use socsec_proto::{
    card::v1 as card, common::v1::YearMonth, contribution::v1 as contribution, identity::v1 as pb,
};
use system_tests::{
    System, eventually, fresh_database, identity_client, identity_config, journeys, operator,
    reason, spawn_identity_with, test_clock, with_token,
};
use tonic::{Code, Status};

/// How long a test waits for a revocation to reach every service: the
/// revocation delay, and a margin for the calls themselves.
fn revocation_patience() -> Duration {
    SESSION_CACHE + Duration::from_secs(3)
}

/// What each service that serves persons answers `token` (`Ok` or the refusal).
async fn answers(
    system: &System,
    token: &str,
    person: &pb::Person,
) -> Vec<(&'static str, Result<(), Status>)> {
    let person_id = person.person_id.clone();
    let identity = system
        .identity_client()
        .await
        .get_person(with_token(
            token,
            pb::GetPersonRequest {
                person_id: person_id.clone(),
            },
        ))
        .await
        .map(drop);
    let cards = system
        .card_client()
        .await
        .list_person_cards(with_token(
            token,
            card::ListPersonCardsRequest {
                person_id: person_id.clone(),
            },
        ))
        .await
        .map(drop);
    let month = |month| Some(YearMonth { year: 2026, month });
    let contribution = system
        .contribution_client()
        .await
        .get_statement(with_token(
            token,
            contribution::GetStatementRequest {
                person_id,
                from: month(1),
                to: month(12),
                page: None,
            },
        ))
        .await
        .map(drop);
    vec![
        ("identity", identity),
        ("card-issuance", cards),
        ("contribution", contribution),
    ]
}

/// Waits until every service refuses `token` as `SESSION_REVOKED`.
async fn refused_everywhere(system: &System, token: &str, person: &pb::Person, after: &str) {
    eventually(
        &format!("every service to refuse the token after {after}"),
        revocation_patience(),
        async || {
            let answers = answers(system, token, person).await;
            answers
                .iter()
                .all(|(_, answer)| {
                    answer.as_ref().is_err_and(|status| {
                        status.code() == Code::Unauthenticated
                            && reason(status) == "SESSION_REVOKED"
                    })
                })
                .then_some(())
        },
    )
    .await;
}

fn assert_accepted_everywhere(answers: &[(&str, Result<(), Status>)]) {
    for (service, answer) in answers {
        assert!(answer.is_ok(), "{service}: {answer:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_out_token_is_refused_by_every_service() {
    let system = System::start().await;
    let (person, token) = system.signed_in_person().await;
    let mut identity = system.identity_client().await;
    // A second session of the same person lives on.
    let other = identity
        .sign_in(pb::SignInRequest {
            id_number: person.id_number.clone(),
            password: "Signed1nOnline".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    assert_accepted_everywhere(&answers(&system, &token, &person).await);

    let ended = identity
        .sign_out(with_token(
            &token,
            pb::SignOutRequest {
                request_id: "out-1".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!ended.session_id.is_empty());
    // Identity checks its own table: refused at once.
    let status = identity
        .get_person(with_token(
            &token,
            pb::GetPersonRequest {
                person_id: person.person_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "SESSION_REVOKED");
    refused_everywhere(&system, &token, &person, "sign-out").await;
    assert_accepted_everywhere(&answers(&system, &other, &person).await);
    // Signing out is for persons: nobody else ends a session this way.
    let status = identity
        .sign_out(operator(pb::SignOutRequest {
            request_id: "out-2".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "CALLER_KIND_NOT_ALLOWED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_revokes_every_session_of_a_person() {
    let system = System::start().await;
    let (person, first) = system.signed_in_person().await;
    let second = system.sign_in(&person).await;
    let (bystander, theirs) = system.signed_in_person().await;
    assert_accepted_everywhere(&answers(&system, &first, &person).await);
    assert_accepted_everywhere(&answers(&system, &second, &person).await);

    let revoked = system
        .identity_client()
        .await
        .revoke_sessions(operator(pb::RevokeSessionsRequest {
            request_id: "revoke-1".into(),
            person_id: person.person_id.clone(),
            reason: "phone reported stolen".into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(revoked.revoked, 2);
    refused_everywhere(&system, &first, &person, "revocation").await;
    refused_everywhere(&system, &second, &person, "revocation").await;
    assert_accepted_everywhere(&answers(&system, &theirs, &bystander).await);

    // A person cannot revoke sessions, not even their own.
    let fresh = system.sign_in(&person).await;
    let status = system
        .identity_client()
        .await
        .revoke_sessions(with_token(
            &fresh,
            pb::RevokeSessionsRequest {
                request_id: "revoke-2".into(),
                person_id: person.person_id.clone(),
                reason: "mine".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "CALLER_KIND_NOT_ALLOWED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_set_at_the_counter_ends_every_session() {
    let system = System::start().await;
    let (person, token) = system.signed_in_person().await;
    assert_accepted_everywhere(&answers(&system, &token, &person).await);
    system
        .identity_client()
        .await
        .set_online_password(operator(pb::SetOnlinePasswordRequest {
            request_id: "pw-new".into(),
            id_number: person.id_number.clone(),
            password: "Changed2026".into(),
        }))
        .await
        .unwrap();
    refused_everywhere(&system, &token, &person, "a password change").await;
}

/// Identity alone, on `database`, with session keys `keys` (id, secret),
/// signing with `signing`.
async fn identity_with_keys(
    database: &str,
    keys: &[(&str, &str)],
    signing: &str,
) -> system_tests::Running {
    let mut config = identity_config(database);
    config.platform.session_token_secret = None;
    config.platform.session_token_keys = keys
        .iter()
        .map(|(id, secret)| ((*id).to_owned(), (*secret).into()))
        .collect();
    config.platform.session_token_signing_key = Some(signing.to_owned());
    spawn_identity_with(config, Arc::new(test_clock())).await
}

async fn own_record(
    identity: &system_tests::Running,
    token: &str,
    person: &pb::Person,
) -> Result<(), Status> {
    identity_client(identity)
        .await
        .get_person(with_token(
            token,
            pb::GetPersonRequest {
                person_id: person.person_id.clone(),
            },
        ))
        .await
        .map(drop)
}

async fn sign_in(identity: &system_tests::Running, person: &pb::Person) -> String {
    identity_client(identity)
        .await
        .sign_in(pb::SignInRequest {
            id_number: person.id_number.clone(),
            password: "Rotate2026".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_of_an_old_key_verifies_while_the_key_is_listed_and_not_after() {
    let database = fresh_database().await;
    let (old, new) = ("old-key-".repeat(5), "new-key-".repeat(5));

    let before = identity_with_keys(&database, &[("k2025", &old)], "k2025").await;
    let mut client = identity_client(&before).await;
    let person = journeys::register(&mut client, "秦明").await;
    client
        .set_online_password(operator(pb::SetOnlinePasswordRequest {
            request_id: "pw-rotate".into(),
            id_number: person.id_number.clone(),
            password: "Rotate2026".into(),
        }))
        .await
        .unwrap();
    let old_token = sign_in(&before, &person).await;
    assert!(old_token.starts_with("v2.k2025."));
    before.stop().await.unwrap();

    // Rotated: the new key signs, the old one is still listed.
    let rotated = identity_with_keys(&database, &[("k2025", &old), ("k2026", &new)], "k2026").await;
    own_record(&rotated, &old_token, &person)
        .await
        .expect("the old key's token still verifies");
    let new_token = sign_in(&rotated, &person).await;
    assert!(new_token.starts_with("v2.k2026."));
    rotated.stop().await.unwrap();

    // The old key removed: its tokens are refused, the new ones verify.
    let after = identity_with_keys(&database, &[("k2026", &new)], "k2026").await;
    let status = own_record(&after, &old_token, &person).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(reason(&status), "CREDENTIAL_INVALID");
    own_record(&after, &new_token, &person)
        .await
        .expect("the new key's token verifies");
}
