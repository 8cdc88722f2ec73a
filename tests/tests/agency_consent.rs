//! Enrolment squatting refused: an HR agency can do nothing for a person
//! until the person confirms its contract; contracts end, and an ended one
//! stops the agency; the person's own enrolment always succeeds, taking
//! over from the agency's, and each month is billed once, by whichever
//! enrolment is in force.

use futures::StreamExt;
use socsec_proto::{
    common::v1::{Money, PartnerKind, YearMonth},
    contribution::v1::{self as pb, AgencyContractStatus as Status, InsuranceType, Scheme},
    identity::v1 as identity,
};
use system_tests::{CallerChannel, as_caller, bad_fields, journeys, operator, reason};
use tonic::Code;
use tonic_types::StatusExt;

type Contribution = pb::contribution_service_client::ContributionServiceClient<CallerChannel>;

const REGION: &str = "110100";
const AGENCY: &str = "hr_agency:AGENCY-1";
const OLD_AGE: i32 = InsuranceType::OldAge as i32;

fn ym(month: i32) -> Option<YearMonth> {
    Some(YearMonth { year: 2026, month })
}

fn ym_of(year: i32, month: i32) -> Option<YearMonth> {
    Some(YearMonth { year, month })
}

system_tests::world!(World);

async fn world() -> World {
    let mut w = system_tests::World::with_partners(
        &[
            ("EMP-1", PartnerKind::Employer, ""),
            ("AGENCY-1", PartnerKind::HrAgency, ""),
            ("AGENCY-2", PartnerKind::HrAgency, ""),
        ],
        &[],
    )
    .await;
    for (i, t) in [InsuranceType::OldAge, InsuranceType::Medical]
        .into_iter()
        .enumerate()
    {
        w.contribution
            .set_rate_table(operator(pb::SetRateTableRequest {
                request_id: format!("rates-{i}"),
                table: Some(socsec_fixtures::rates::typical(REGION, t, 2026)),
            }))
            .await
            .unwrap();
    }
    World(w)
}

fn me(person: &identity::Person) -> String {
    format!("person:{}", person.person_id)
}

fn contract_request(
    request_id: &str,
    agency_code: &str,
    person: &identity::Person,
) -> pb::RegisterAgencyContractRequest {
    pb::RegisterAgencyContractRequest {
        request_id: request_id.into(),
        agency_code: agency_code.into(),
        person_id: person.person_id.clone(),
        monthly_service_fee: Some(Money { fen: 8_000 }),
        start: ym(1),
        end: ym(12),
    }
}

fn enrol(
    request_id: &str,
    person: &identity::Person,
    scheme: Scheme,
    types: &[InsuranceType],
    start: i32,
) -> pb::EnrolRequest {
    pb::EnrolRequest {
        request_id: request_id.into(),
        person_id: person.person_id.clone(),
        region_code: REGION.into(),
        insurance_types: types.iter().map(|t| *t as i32).collect(),
        scheme: scheme as i32,
        start: ym(start),
        ..Default::default()
    }
}

fn under(contract: &pb::AgencyContract, mut request: pb::EnrolRequest) -> pb::EnrolRequest {
    request.agency_contract_id = contract.contract_id.clone();
    request
}

fn wage(
    request_id: &str,
    person: &identity::Person,
    month: i32,
    fen: i64,
) -> pb::DeclareWageRequest {
    pb::DeclareWageRequest {
        request_id: request_id.into(),
        person_id: person.person_id.clone(),
        period: Some(pb::declare_wage_request::Period::Month(YearMonth {
            year: 2026,
            month,
        })),
        monthly_wage: Some(Money { fen }),
    }
}

fn statement(person: &identity::Person) -> pb::GetStatementRequest {
    pb::GetStatementRequest {
        person_id: person.person_id.clone(),
        from: ym(1),
        to: ym(12),
        page: None,
    }
}

fn confirm(request_id: &str, contract: &pb::AgencyContract) -> pb::ConfirmAgencyContractRequest {
    pb::ConfirmAgencyContractRequest {
        request_id: request_id.into(),
        contract_id: contract.contract_id.clone(),
    }
}

fn end(
    request_id: &str,
    contract: &pb::AgencyContract,
    last: Option<YearMonth>,
) -> pb::EndAgencyContractRequest {
    pb::EndAgencyContractRequest {
        request_id: request_id.into(),
        contract_id: contract.contract_id.clone(),
        end: last,
    }
}

fn listing(person: &identity::Person) -> pb::ListAgencyContractsRequest {
    pb::ListAgencyContractsRequest {
        person_id: person.person_id.clone(),
        page: None,
    }
}

/// A metadata value of the refusal's `ErrorInfo`.
fn detail(status: &tonic::Status, key: &str) -> String {
    status
        .get_details_error_info()
        .and_then(|info| info.metadata.get(key).cloned())
        .unwrap_or_default()
}

async fn run(
    contribution: &mut Contribution,
    request_id: &str,
    month: i32,
) -> pb::RunMonthProgress {
    let mut stream = contribution
        .run_month(operator(pb::RunMonthRequest {
            request_id: request_id.into(),
            period: ym(month),
            region_code: REGION.into(),
            payer_code: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    let mut last = None;
    while let Some(progress) = stream.next().await {
        last = Some(progress.unwrap());
    }
    last.unwrap()
}

/// A confirmed contract of AGENCY-1 with `person` (2026), and the agency's
/// old-age enrolment under it from January with a declared 9,000 yuan wage.
async fn agency_client(w: &mut World, person: &identity::Person) -> pb::AgencyContract {
    let contract = w
        .contribution
        .register_agency_contract(as_caller(AGENCY, contract_request("c", "AGENCY-1", person)))
        .await
        .unwrap()
        .into_inner();
    w.contribution
        .confirm_agency_contract(as_caller(&me(person), confirm("yes", &contract)))
        .await
        .unwrap();
    let e = under(
        &contract,
        enrol("ae", person, Scheme::Agency, &[InsuranceType::OldAge], 1),
    );
    w.contribution.enrol(as_caller(AGENCY, e)).await.unwrap();
    w.contribution
        .declare_wage(as_caller(AGENCY, wage("aw", person, 1, 900_000)))
        .await
        .unwrap();
    contract
}

#[tokio::test]
async fn an_agency_can_do_nothing_for_a_person_who_never_consented() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "甲同意").await;
    w.system.sign_in(&person).await;
    let stranger = journeys::register(&mut w.identity, "乙路人").await;
    w.system.sign_in(&stranger).await;
    let contract = w
        .contribution
        .register_agency_contract(as_caller(
            AGENCY,
            contract_request("c1", "AGENCY-1", &person),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(contract.status, Status::Pending as i32);
    assert!(contract.confirmed_at.is_none());

    // Every insurance type, through the agency or at the counter: refused.
    let every_type = [
        InsuranceType::OldAge,
        InsuranceType::Medical,
        InsuranceType::Unemployment,
        InsuranceType::WorkInjury,
        InsuranceType::Maternity,
    ];
    let squat = under(
        &contract,
        enrol("s1", &person, Scheme::Agency, &every_type, 1),
    );
    for request in [as_caller(AGENCY, squat.clone()), operator(squat)] {
        let status = w.contribution.enrol(request).await.unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(reason(&status), "CONTRACT_NOT_CONFIRMED");
    }
    // Nor may it declare the person's wage or read their statement.
    let status = w
        .contribution
        .declare_wage(as_caller(AGENCY, wage("s2", &person, 1, 100)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_OWN_RECORD");
    let status = w
        .contribution
        .get_statement(as_caller(AGENCY, statement(&person)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_OWN_RECORD");
    let status = w
        .contribution
        .stream_statement(as_caller(
            AGENCY,
            pb::StreamStatementRequest {
                person_id: person.person_id.clone(),
                from: ym(1),
                to: ym(12),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_OWN_RECORD");
    // One pending contract per agency and person: no flooding the list.
    let status = w
        .contribution
        .register_agency_contract(as_caller(
            AGENCY,
            contract_request("c2", "AGENCY-1", &person),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(reason(&status), "CONTRACT_PENDING");

    // Only the person (or the counter) consents: not the agency, not another person.
    let status = w
        .contribution
        .confirm_agency_contract(as_caller(AGENCY, confirm("s3", &contract)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = w
        .contribution
        .confirm_agency_contract(as_caller(&me(&stranger), confirm("s4", &contract)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_OWN_RECORD");
    let status = w
        .contribution
        .list_agency_contracts(as_caller(&me(&stranger), listing(&person)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_OWN_RECORD");

    // The person sees what awaits their consent ...
    let mine = w
        .contribution
        .list_agency_contracts(as_caller(&me(&person), listing(&person)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine.contracts, vec![contract.clone()]);
    // ... enrols themselves, unhindered ...
    let own = w
        .contribution
        .enrol(as_caller(
            &me(&person),
            enrol(
                "own",
                &person,
                Scheme::Flexible,
                &[InsuranceType::OldAge],
                1,
            ),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.enrolments.len(), 1);
    assert!(own.superseded.is_empty());
    // ... and declines: the contract never takes effect.
    let declined = w
        .contribution
        .end_agency_contract(as_caller(&me(&person), end("no", &contract, None)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(declined.status, Status::Ended as i32);
    assert_eq!(declined.end, ym_of(2025, 12));
    let status = w
        .contribution
        .confirm_agency_contract(as_caller(&me(&person), confirm("late", &contract)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "CONTRACT_ENDED");
}

#[tokio::test]
async fn once_the_person_confirms_the_agency_enrols_declares_and_reads() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "丙代理").await;
    w.system.sign_in(&person).await;
    let contract = w
        .contribution
        .register_agency_contract(as_caller(
            AGENCY,
            contract_request("c", "AGENCY-1", &person),
        ))
        .await
        .unwrap()
        .into_inner();
    let confirmed = w
        .contribution
        .confirm_agency_contract(as_caller(&me(&person), confirm("yes", &contract)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(confirmed.status, Status::Confirmed as i32);
    assert!(confirmed.confirmed_at.is_some());
    // Confirming again changes nothing.
    let again = w
        .contribution
        .confirm_agency_contract(operator(confirm("again", &contract)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, confirmed);

    let enrolled = w
        .contribution
        .enrol(as_caller(
            AGENCY,
            under(
                &contract,
                enrol("e", &person, Scheme::Agency, &[InsuranceType::OldAge], 1),
            ),
        ))
        .await
        .unwrap()
        .into_inner();
    // The enrolment ends with the contract.
    assert_eq!(enrolled.enrolments[0].end, ym(12));
    w.contribution
        .declare_wage(as_caller(AGENCY, wage("w", &person, 1, 900_000)))
        .await
        .unwrap();
    run(&mut w.contribution, "run-1", 1).await;
    let seen = w
        .contribution
        .get_statement(as_caller(AGENCY, statement(&person)))
        .await
        .unwrap()
        .into_inner();
    // 9,000 yuan: 16% = 144,000 and 8% = 72,000, plus the 80 yuan fee.
    let amounts: Vec<i64> = seen.lines.iter().map(|l| l.amount.unwrap().fen).collect();
    assert_eq!(amounts, [8_000, 72_000, 144_000]);
    let status = w
        .contribution
        .get_statement(as_caller("hr_agency:AGENCY-2", statement(&person)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_OWN_RECORD");

    // Registered at the counter, a contract is confirmed at once; each
    // agency lists only its own contracts with the person.
    let at_counter = w
        .contribution
        .register_agency_contract(operator(contract_request("c2", "AGENCY-2", &person)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(at_counter.status, Status::Confirmed as i32);
    let theirs = w
        .contribution
        .list_agency_contracts(as_caller("hr_agency:AGENCY-2", listing(&person)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(theirs.contracts, vec![at_counter.clone()]);
    let all = w
        .contribution
        .list_agency_contracts(as_caller(&me(&person), listing(&person)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.contracts, vec![confirmed, at_counter]);
}

#[tokio::test]
async fn an_ended_contract_stops_the_agency() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "丁终止").await;
    w.system.sign_in(&person).await;
    let contract = agency_client(&mut w, &person).await;
    run(&mut w.contribution, "run-1", 1).await;

    // January is billed to the agency: the contract keeps it.
    let status = w
        .contribution
        .end_agency_contract(as_caller(
            &me(&person),
            end("e0", &contract, ym_of(2025, 12)),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "MONTHS_ALREADY_BILLED");
    assert_eq!(detail(&status, "earliest_month"), "2026-01");
    let status = w
        .contribution
        .end_agency_contract(as_caller(&me(&person), end("e1", &contract, ym(12))))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "END_NOT_EARLIER");
    let ended = w
        .contribution
        .end_agency_contract(as_caller(&me(&person), end("e2", &contract, None)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ended.status, Status::Ended as i32);
    assert_eq!(ended.end, ym(1));
    assert!(ended.ended_at.is_some());

    let e = under(
        &contract,
        enrol("x1", &person, Scheme::Agency, &[InsuranceType::Medical], 1),
    );
    let status = w
        .contribution
        .enrol(as_caller(AGENCY, e))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "CONTRACT_ENDED");
    let status = w
        .contribution
        .declare_wage(as_caller(AGENCY, wage("x2", &person, 2, 900_000)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_OWN_RECORD");
    let status = w
        .contribution
        .get_statement(as_caller(AGENCY, statement(&person)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_OWN_RECORD");
    let status = w
        .contribution
        .end_agency_contract(as_caller(AGENCY, end("x3", &contract, None)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "CONTRACT_ENDED");

    // February bills the agency nothing: no contribution, no service fee.
    run(&mut w.contribution, "run-2", 2).await;
    let status = w
        .contribution
        .get_bill(as_caller(
            AGENCY,
            pb::GetBillRequest {
                payer: AGENCY.into(),
                period: ym(2),
                as_of: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "BILL_NOT_FOUND");
    let listed = w
        .contribution
        .list_agency_contracts(as_caller(&me(&person), listing(&person)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.contracts, vec![ended]);
}

#[tokio::test]
async fn the_persons_own_enrolment_takes_over_and_each_month_is_billed_once() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "戊自主").await;
    w.system.sign_in(&person).await;
    agency_client(&mut w, &person).await;
    run(&mut w.contribution, "run-1", 1).await;

    // January is billed to the agency: the person's own enrolment starts later.
    let own = |id: &str, start| {
        enrol(
            id,
            &person,
            Scheme::Flexible,
            &[InsuranceType::OldAge],
            start,
        )
    };
    let status = w
        .contribution
        .enrol(as_caller(&me(&person), own("o1", 1)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "MONTHS_ALREADY_BILLED");
    assert_eq!(detail(&status, "earliest_month"), "2026-02");
    assert_eq!(detail(&status, "insurance_type"), "OLD_AGE");
    let enrolled = w
        .contribution
        .enrol(as_caller(&me(&person), own("o2", 2)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(enrolled.superseded.len(), 1);
    assert_eq!(enrolled.superseded[0].scheme, Scheme::Agency as i32);
    assert_eq!(enrolled.superseded[0].end, ym(1));
    w.contribution
        .declare_wage(as_caller(&me(&person), wage("b", &person, 2, 800_000)))
        .await
        .unwrap();
    // The agency no longer pays from February, so no longer sets the base.
    let status = w
        .contribution
        .declare_wage(as_caller(AGENCY, wage("aw2", &person, 2, 900_000)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_PAYER_FOR_PERIOD");

    run(&mut w.contribution, "run-2", 2).await;
    assert_eq!(run(&mut w.contribution, "rerun-1", 1).await.entries, 0);
    assert_eq!(run(&mut w.contribution, "rerun-2", 2).await.entries, 0);
    let s = w
        .contribution
        .get_statement(operator(statement(&person)))
        .await
        .unwrap()
        .into_inner();
    let lines: Vec<(i32, String, String, i64)> = s
        .lines
        .iter()
        .map(|l| {
            let month = l.period.unwrap().month;
            (
                month,
                l.part.clone(),
                l.payer.clone(),
                l.amount.unwrap().fen,
            )
        })
        .collect();
    // January by the agency (with its fee), February by the person alone:
    // 20% of 8,000 yuan, 8% to the individual account, 12% to the pool.
    assert_eq!(
        lines,
        vec![
            (1, "SERVICE_FEE".into(), AGENCY.into(), 8_000),
            (1, "EMPLOYEE".into(), AGENCY.into(), 72_000),
            (1, "EMPLOYER".into(), AGENCY.into(), 144_000),
            (2, "FLEXIBLE_INDIVIDUAL".into(), me(&person), 64_000),
            (2, "FLEXIBLE_POOLING".into(), me(&person), 96_000),
        ]
    );
    assert!(
        s.lines
            .iter()
            .all(|l| l.insurance_type == OLD_AGE || l.part == "SERVICE_FEE")
    );
}

#[tokio::test]
async fn an_enrolment_at_the_counter_takes_over_an_unbilled_agency_enrolment_whole() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "己柜台").await;
    w.system.sign_in(&person).await;
    agency_client(&mut w, &person).await;
    let mut employee = enrol(
        "emp",
        &person,
        Scheme::Employee,
        &[InsuranceType::OldAge],
        1,
    );
    employee.employer_code = "EMP-1".into();
    let enrolled = w
        .contribution
        .enrol(operator(employee))
        .await
        .unwrap()
        .into_inner();
    // Nothing billed yet: the agency's enrolment never takes effect.
    assert_eq!(enrolled.superseded[0].end, ym_of(2025, 12));
    run(&mut w.contribution, "run-1", 1).await;
    let s = w
        .contribution
        .get_statement(operator(statement(&person)))
        .await
        .unwrap()
        .into_inner();
    assert!(!s.lines.is_empty());
    assert!(s.lines.iter().all(|l| l.payer == "employer:EMP-1"), "{s:?}");
    // An agency never takes over from the person's own enrolment.
    let listed = w
        .contribution
        .list_agency_contracts(operator(listing(&person)))
        .await
        .unwrap()
        .into_inner();
    let again = under(
        &listed.contracts[0],
        enrol("ae2", &person, Scheme::Agency, &[InsuranceType::OldAge], 2),
    );
    let status = w
        .contribution
        .enrol(as_caller(AGENCY, again))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "ENROLMENT_OVERLAPS");
}

#[tokio::test]
async fn a_contract_ends_within_36_months() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "庚期限").await;
    w.system.sign_in(&person).await;
    let mut open_ended = contract_request("c1", "AGENCY-1", &person);
    open_ended.end = None;
    let status = w
        .contribution
        .register_agency_contract(as_caller(AGENCY, open_ended))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        vec![("end".into(), "FIELD_REQUIRED".into())]
    );
    let mut too_long = contract_request("c2", "AGENCY-1", &person);
    too_long.end = ym_of(2029, 1);
    let status = w
        .contribution
        .register_agency_contract(as_caller(AGENCY, too_long))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        vec![("end".into(), "CONTRACT_TOO_LONG".into())]
    );
    let mut longest = contract_request("c3", "AGENCY-1", &person);
    longest.end = ym_of(2028, 12);
    let contract = w
        .contribution
        .register_agency_contract(as_caller(AGENCY, longest))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(contract.end, ym_of(2028, 12));
    let _ = &w.system;
}

/// Contracts registered before consent existed stay in force (their
/// agencies have been paying for real clients), and every one now ends.
#[tokio::test]
async fn contracts_from_before_consent_stay_confirmed_and_get_an_end() {
    use std::sync::Arc;

    use chrono::{Datelike, Months, NaiveDate};
    use sqlx::{Row, migrate::Migrator};
    use system_tests::{contribution_config, spawn_contribution_with, spawn_identity, test_clock};

    let database_url = system_tests::fresh_database().await;
    let clock = test_clock();
    let identity = spawn_identity(Arc::new(clock.clone())).await;
    let config = contribution_config(&database_url, identity.addr);
    let pool = platform::db::connect(&config.platform).await.unwrap();
    let before: Vec<_> = sqlx::migrate!("../crates/contribution/migrations")
        .iter()
        .filter(|m| m.version < 1_000_003)
        .cloned()
        .collect();
    let schema = config.platform.database_schema.clone();
    platform::db::migrate(&pool, &schema, &Migrator::with_migrations(before))
        .await
        .unwrap();
    let (person, contract) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    sqlx::query(
        "INSERT INTO agency_contracts (contract_id, agency_code, person_id, service_fee_fen,
             start_period, end_period, created_at)
         VALUES ($1, 'AGENCY-1', $2, 8000, '2020-01-01', NULL, now())",
    )
    .bind(contract)
    .bind(person)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO enrolments (enrolment_id, person_id, region_code, insurance_type, scheme,
             contract_id, payer, start_period, channel, created_at)
         VALUES ($1, $2, '110100', 'OLD_AGE', 'AGENCY', $3, 'hr_agency:AGENCY-1', '2020-01-01',
             'AGENCY', now())",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(person)
    .bind(contract)
    .execute(&pool)
    .await
    .unwrap();

    let running = spawn_contribution_with(config, Arc::new(clock)).await;
    let mut contribution = Contribution::new(running.channel().await);
    let listed = contribution
        .list_agency_contracts(operator(pb::ListAgencyContractsRequest {
            person_id: person.to_string(),
            page: None,
        }))
        .await
        .unwrap()
        .into_inner();
    // 36 months from 2020-01 is long past: it runs to the twelfth month
    // from the migration's month (China time), so no client loses cover
    // without notice.
    let china = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    let twelfth =
        NaiveDate::from_ymd_opt(china.year(), china.month(), 1).unwrap() + Months::new(11);
    let migrated = &listed.contracts[0];
    assert_eq!(migrated.status, Status::Confirmed as i32);
    assert_eq!(migrated.end, ym_of(twelfth.year(), twelfth.month() as i32));
    // Its enrolment ends with it.
    let end: NaiveDate = sqlx::query("SELECT end_period FROM enrolments WHERE contract_id = $1")
        .bind(contract)
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(end, twelfth);
}
