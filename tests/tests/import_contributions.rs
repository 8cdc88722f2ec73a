//! Importing enrolments and wage history (`ImportEnrolments`,
//! `ImportWages`) for persons imported into identity, through the
//! generated clients: each bad record reported by line, field and reason
//! while the rest go in; batches replayed, never stored twice; and the
//! monthly run billing imported enrolments to the fen as enrolled ones.

use futures::StreamExt;
use socsec_proto::{
    common::v1::{Gender, ImportOutcome, ImportResult, Money, PartnerKind, YearMonth},
    contribution::v1::{self as pb, InsuranceType, Scheme},
    identity::v1 as identity,
};
use system_tests::{ids, journeys, operator, reason};

const REGION: &str = "110100";
const OLD_AGE: i32 = InsuranceType::OldAge as i32;
const MEDICAL: i32 = InsuranceType::Medical as i32;

system_tests::world!(World);

fn ym(year: i32, month: i32) -> Option<YearMonth> {
    Some(YearMonth { year, month })
}

fn fen(fen: i64) -> Option<Money> {
    Some(Money { fen })
}

/// EMP-1 registered as an employer, and the region's typical 2026 old-age
/// and medical tables.
async fn world() -> World {
    let w = system_tests::World::with_partners(&[("EMP-1", PartnerKind::Employer, "")], &[]).await;
    w.system
        .set_typical_rates(REGION, &[InsuranceType::OldAge, InsuranceType::Medical])
        .await;
    World(w)
}

/// A person imported into identity (confirmed or not): ID number, person id.
async fn imported_person(w: &mut World, name: &str, confirmed: bool) -> (String, String) {
    let id_number = ids::id_number(true);
    let answer = w
        .identity
        .import_persons(operator(identity::ImportPersonsRequest {
            request_id: format!("persons-{}", uuid::Uuid::new_v4()),
            persons: vec![identity::ImportedPerson {
                line: 1,
                id_number: id_number.clone(),
                basic_info: Some(journeys::basic_info(name, Gender::Male)),
                confirmed,
                registered_at: None,
            }],
        }))
        .await
        .unwrap()
        .into_inner();
    let key = answer.outcomes[0].key.clone();
    assert!(!key.is_empty(), "{answer:?}");
    (id_number, key)
}

fn enrolment(
    line: i64,
    holder: &str,
    region: &str,
    insurance_type: i32,
    scheme: Scheme,
    employer: &str,
    start: Option<YearMonth>,
) -> pb::ImportedEnrolment {
    pb::ImportedEnrolment {
        line,
        holder_id_number: holder.into(),
        region_code: region.into(),
        insurance_type,
        scheme: scheme as i32,
        employer_code: employer.into(),
        start,
        end: None,
    }
}

fn wage(line: i64, holder: &str, month: Option<YearMonth>, amount: i64) -> pb::ImportedWage {
    pb::ImportedWage {
        line,
        holder_id_number: holder.into(),
        month,
        monthly_wage: fen(amount),
    }
}

async fn import_enrolments(
    w: &mut World,
    request_id: &str,
    enrolments: Vec<pb::ImportedEnrolment>,
) -> Result<Vec<ImportOutcome>, tonic::Status> {
    let request_id = request_id.into();
    let request = pb::ImportEnrolmentsRequest {
        request_id,
        enrolments,
    };
    let answer = w.contribution.import_enrolments(operator(request)).await?;
    Ok(answer.into_inner().outcomes)
}

async fn import_wages(
    w: &mut World,
    request_id: &str,
    wages: Vec<pb::ImportedWage>,
) -> Result<Vec<ImportOutcome>, tonic::Status> {
    let request_id = request_id.into();
    let request = pb::ImportWagesRequest { request_id, wages };
    let answer = w.contribution.import_wages(operator(request)).await?;
    Ok(answer.into_inner().outcomes)
}

/// (line, result, field, reason) of each outcome.
fn judged(outcomes: &[ImportOutcome]) -> Vec<(i64, ImportResult, String, String)> {
    outcomes
        .iter()
        .map(|o| (o.line, o.result(), o.field.clone(), o.reason.clone()))
        .collect()
}

fn ok(line: i64, result: ImportResult) -> (i64, ImportResult, String, String) {
    (line, result, String::new(), String::new())
}

fn bad(line: i64, field: &str, why: &str) -> (i64, ImportResult, String, String) {
    (line, ImportResult::Rejected, field.into(), why.into())
}

async fn count(w: &World, sql: &str) -> i64 {
    let pool = sqlx::PgPool::connect(&w.system.database_url).await.unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn bad_enrolment_and_wage_records_are_reported_by_line_field_and_reason_and_the_rest_go_in() {
    use ImportResult::{AlreadyImported, Imported};
    let mut w = world().await;
    let (a, a_id) = imported_person(&mut w, "甲导", true).await;
    let (b, b_id) = imported_person(&mut w, "乙导", true).await;
    let (unconfirmed, _) = imported_person(&mut w, "丙导", false).await;
    let stranger = ids::id_number(true);
    let jan = || ym(2026, 1);
    let flexible = Scheme::Flexible;
    let outcomes = import_enrolments(
        &mut w,
        "enrolments-1",
        vec![
            enrolment(1, &a, REGION, OLD_AGE, Scheme::Employee, "EMP-1", jan()),
            enrolment(2, &a, REGION, MEDICAL, Scheme::Employee, "EMP-1", jan()),
            enrolment(3, &b, REGION, OLD_AGE, flexible, "", jan()),
            enrolment(4, &stranger, REGION, OLD_AGE, flexible, "", jan()),
            enrolment(5, &unconfirmed, REGION, OLD_AGE, flexible, "", jan()),
            enrolment(6, &b, "99", MEDICAL, flexible, "", jan()),
            enrolment(7, &b, "650100", MEDICAL, flexible, "", jan()),
            enrolment(8, &b, REGION, MEDICAL, flexible, "", ym(2026, 13)),
            enrolment(9, &b, REGION, MEDICAL, Scheme::Agency, "", jan()),
            enrolment(10, &b, REGION, MEDICAL, Scheme::Employee, "EMP-404", jan()),
            enrolment(11, &a, REGION, OLD_AGE, flexible, "", ym(2026, 3)),
            enrolment(12, &b, REGION, OLD_AGE, flexible, "", jan()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        judged(&outcomes),
        vec![
            ok(1, Imported),
            ok(2, Imported),
            ok(3, Imported),
            bad(4, "holder_id_number", "PERSON_NOT_FOUND"),
            bad(5, "holder_id_number", "BASIC_INFO_NOT_CONFIRMED"),
            bad(6, "region_code", "REGION_CODE_INVALID"),
            bad(7, "region_code", "REGION_UNKNOWN"),
            bad(8, "start", "PERIOD_INVALID"),
            bad(9, "scheme", "AGENCY_ENROLMENT_NOT_IMPORTED"),
            bad(10, "employer_code", "PAYER_NOT_REGISTERED"),
            bad(11, "start", "ENROLMENT_OVERLAPS"),
            // The same enrolment twice in a file: the first counts.
            ok(12, AlreadyImported),
        ]
    );
    assert_eq!(outcomes[11].key, outcomes[2].key, "the enrolment id");
    let enrolments = "SELECT count(*) FROM contribution.enrolments";
    assert_eq!(count(&w, enrolments).await, 3);

    let outcomes = import_wages(
        &mut w,
        "wages-1",
        vec![
            wage(1, &a, jan(), 1_000_055),
            wage(2, &b, jan(), 500_000),
            wage(3, &a, ym(2026, 13), 1_000_000),
            wage(4, &b, ym(2026, 2), -1),
            wage(5, &a, ym(2025, 12), 1_000_000),
            wage(6, &stranger, jan(), 1_000_000),
            wage(7, &a, jan(), 2_000_000),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        judged(&outcomes),
        vec![
            ok(1, Imported),
            ok(2, Imported),
            bad(3, "month", "PERIOD_INVALID"),
            bad(4, "monthly_wage", "AMOUNT_NEGATIVE"),
            bad(5, "month", "PERIOD_BEFORE_ENROLMENT"),
            bad(6, "holder_id_number", "PERSON_NOT_FOUND"),
            ok(7, AlreadyImported),
        ]
    );
    let keys: Vec<&str> = outcomes.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, [&a_id, &b_id, "", "", "", "", &a_id]);
    let wages =
        "SELECT count(*) FROM contribution.current_wages WHERE wage_fen IN (1000055, 500000)";
    assert_eq!(
        count(&w, wages).await,
        2,
        "the first wage of a month counts"
    );

    // Each person whose record changed is on their trail, once per batch.
    let trail = system_tests::audit_trail(&w.system.contribution, &a_id).await;
    let mut imports: Vec<&str> = trail
        .iter()
        .filter(|r| r.action.starts_with("Import"))
        .map(|r| r.action.as_str())
        .collect();
    imports.sort();
    assert_eq!(imports, ["ImportEnrolments", "ImportWages"]);
}

#[tokio::test]
async fn a_batch_is_stored_once_however_often_it_is_sent() {
    let mut w = world().await;
    let (a, _) = imported_person(&mut w, "丁导", true).await;
    let records = vec![
        enrolment(1, &a, REGION, OLD_AGE, Scheme::Flexible, "", ym(2026, 1)),
        enrolment(2, &a, REGION, MEDICAL, Scheme::Flexible, "", ym(2026, 1)),
    ];
    let first = import_enrolments(&mut w, "enrolments-1", records.clone())
        .await
        .unwrap();
    // A retry (the loader's answer lost) is answered from the first answer.
    let retried = import_enrolments(&mut w, "enrolments-1", records.clone())
        .await
        .unwrap();
    assert_eq!(retried, first);
    // The same request id with other records is refused.
    let other = vec![records[0].clone()];
    let reused = import_enrolments(&mut w, "enrolments-1", other)
        .await
        .unwrap_err();
    assert_eq!(reason(&reused), "REQUEST_ID_REUSED");
    // The same records again (a file imported twice): already imported.
    let again = import_enrolments(&mut w, "enrolments-2", records)
        .await
        .unwrap();
    assert!(
        again
            .iter()
            .zip(&first)
            .all(|(a, f)| a.result() == ImportResult::AlreadyImported && a.key == f.key),
        "{again:?}"
    );
    let rows = count(&w, "SELECT count(*) FROM contribution.enrolments").await;
    assert_eq!(rows, 2, "nothing stored twice");

    let wages = vec![wage(1, &a, ym(2026, 1), 800_000)];
    let first = import_wages(&mut w, "wages-1", wages.clone())
        .await
        .unwrap();
    assert_eq!(first[0].result(), ImportResult::Imported);
    let retried = import_wages(&mut w, "wages-1", wages.clone())
        .await
        .unwrap();
    assert_eq!(retried, first);
    let changed = vec![wage(1, &a, ym(2026, 1), 900_000)];
    let reused = import_wages(&mut w, "wages-1", changed.clone())
        .await
        .unwrap_err();
    assert_eq!(reason(&reused), "REQUEST_ID_REUSED");
    // A month already declared is never overwritten by an import.
    let again = import_wages(&mut w, "wages-2", changed).await.unwrap();
    assert_eq!(again[0].result(), ImportResult::AlreadyImported);
    let declared = "SELECT count(*) FROM contribution.wage_declarations WHERE wage_fen = 800000";
    assert_eq!(count(&w, declared).await, 1);
    let rows = count(&w, "SELECT count(*) FROM contribution.current_wages").await;
    assert_eq!(rows, 1);
}

/// Every line of a person's January statement: (type, part, account,
/// base, amount).
async fn january(w: &mut World, person_id: &str) -> Vec<(i32, String, i32, i64, i64)> {
    let statement = w
        .contribution
        .get_statement(operator(pb::GetStatementRequest {
            person_id: person_id.into(),
            from: ym(2026, 1),
            to: ym(2026, 1),
            page: None,
        }))
        .await
        .unwrap()
        .into_inner();
    statement
        .lines
        .iter()
        .map(|l| {
            let fen = |m: Option<Money>| m.unwrap_or_default().fen;
            let (part, base, amount) = (l.part.clone(), fen(l.base), fen(l.amount));
            (l.insurance_type, part, l.account, base, amount)
        })
        .collect()
}

#[tokio::test]
async fn the_monthly_run_bills_imported_enrolments_to_the_fen_as_enrolled_ones() {
    let mut w = world().await;
    let both = [OLD_AGE, MEDICAL];
    // Imported: an employee of EMP-1 and a flexible worker.
    let (a, a_id) = imported_person(&mut w, "戊导", true).await;
    let (b, b_id) = imported_person(&mut w, "己导", true).await;
    let e = |line, holder: &str, t, scheme, employer: &str| {
        enrolment(line, holder, REGION, t, scheme, employer, ym(2026, 1))
    };
    let records = vec![
        e(1, &a, OLD_AGE, Scheme::Employee, "EMP-1"),
        e(2, &a, MEDICAL, Scheme::Employee, "EMP-1"),
        e(3, &b, OLD_AGE, Scheme::Flexible, ""),
        e(4, &b, MEDICAL, Scheme::Flexible, ""),
    ];
    let outcomes = import_enrolments(&mut w, "enrolments", records);
    let outcomes = outcomes.await.unwrap();
    let imported = |o: &ImportOutcome| o.result() == ImportResult::Imported;
    assert!(outcomes.iter().all(imported), "{outcomes:?}");
    let wages = vec![
        wage(1, &a, ym(2026, 1), 1_000_055),
        wage(2, &b, ym(2026, 1), 500_000),
    ];
    import_wages(&mut w, "wages", wages).await.unwrap();

    // Enrolled here: the same two, with the same wages.
    let c = journeys::confirmed_person(&mut w.identity, "庚录").await;
    let d = journeys::confirmed_person(&mut w.identity, "辛录").await;
    for (person, scheme, employer, amount) in [
        (&c, Scheme::Employee, "EMP-1", 1_000_055),
        (&d, Scheme::Flexible, "", 500_000),
    ] {
        w.contribution
            .enrol(operator(pb::EnrolRequest {
                request_id: format!("enrol-{}", person.person_id),
                person_id: person.person_id.clone(),
                region_code: REGION.into(),
                insurance_types: both.to_vec(),
                scheme: scheme as i32,
                employer_code: employer.into(),
                agency_contract_id: String::new(),
                start: ym(2026, 1),
            }))
            .await
            .unwrap();
        let month = ym(2026, 1).map(pb::declare_wage_request::Period::Month);
        w.contribution
            .declare_wage(operator(pb::DeclareWageRequest {
                request_id: format!("wage-{}", person.person_id),
                person_id: person.person_id.clone(),
                period: month,
                monthly_wage: fen(amount),
            }))
            .await
            .unwrap();
    }

    let mut run = w
        .contribution
        .run_month(operator(pb::RunMonthRequest {
            request_id: "run-january".into(),
            period: ym(2026, 1),
            region_code: REGION.into(),
            payer_code: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    let mut done = pb::RunMonthProgress::default();
    while let Some(progress) = run.next().await {
        done = progress.unwrap();
    }
    assert!(done.done && done.enrolments_total == 8, "{done:?}");

    let imported_employee = january(&mut w, &a_id).await;
    assert_eq!(imported_employee.len(), 4, "{imported_employee:?}");
    assert_eq!(imported_employee, january(&mut w, &c.person_id).await);
    let imported_flexible = january(&mut w, &b_id).await;
    // Medical has no individual part for flexible workers here.
    assert_eq!(imported_flexible.len(), 3, "{imported_flexible:?}");
    assert_eq!(imported_flexible, january(&mut w, &d.person_id).await);
    // Worked out in contribution.rs: old-age 16 % of 10,000.55 yuan.
    assert!(imported_employee.contains(&(OLD_AGE, "EMPLOYER".into(), 1, 1_000_055, 160_009)));
}
