//! The contribution service over gRPC, with identity running. Every amount
//! below is worked out by hand in the comment beside it.

use futures::StreamExt;
use socsec_proto::{
    common::v1::{Date, Money, PartnerKind, YearMonth},
    contribution::v1::{self as pb, InsuranceType, Rounding, Scheme},
    identity::v1 as identity,
};
use system_tests::CallerChannel as Channel;
use system_tests::{
    As, as_caller, bad_fields, journeys, operator, pay_through_bank, reason, with_token,
};
use tonic::Code;

type Contribution = pb::contribution_service_client::ContributionServiceClient<Channel>;

const REGION: &str = "110100";

fn ym(year: i32, month: i32) -> Option<YearMonth> {
    Some(YearMonth { year, month })
}

fn fen(fen: i64) -> Option<Money> {
    Some(Money { fen })
}

fn day(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

/// A China date, for paying on it.
fn on(year: i32, month: u32, day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

/// The collecting bank bills are paid through.
const BANK: &str = "bank:BOC";

/// 2026 tables for the region: average monthly wage 11,937 yuan, so the base
/// is clamped to [7,162.20, 35,811.00] yuan. Old-age rounds half up to the
/// fen, medical up to the jiao. Bills are due on the 15th of the next month.
async fn set_rates(contribution: &mut Contribution) {
    for (request_id, insurance_type, employer, employee, flexible, flexible_individual, rounding) in [
        (
            "rates-old-age",
            InsuranceType::OldAge,
            1600,
            800,
            2000,
            800,
            Rounding::HalfUpFen,
        ),
        (
            "rates-medical",
            InsuranceType::Medical,
            980,
            200,
            1000,
            0,
            Rounding::UpJiao,
        ),
    ] {
        contribution
            .set_rate_table(operator(pb::SetRateTableRequest {
                request_id: request_id.into(),
                table: Some(pb::RateTable {
                    region_code: REGION.into(),
                    insurance_type: insurance_type as i32,
                    year: 2026,
                    employer_rate_bp: employer,
                    employee_rate_bp: employee,
                    flexible_rate_bp: flexible,
                    flexible_individual_rate_bp: flexible_individual,
                    average_monthly_wage: fen(1_193_700),
                    base_floor_percent: 60,
                    base_ceiling_percent: 300,
                    rounding: rounding as i32,
                    due_day_of_next_month: 15,
                    version: 0,
                }),
            }))
            .await
            .unwrap();
    }
}

system_tests::world!(World);

async fn world() -> World {
    let mut w = system_tests::World::with_partners(
        &[
            ("EMP-1", PartnerKind::Employer, ""),
            ("EMP-2", PartnerKind::Employer, ""),
            ("AGENCY-1", PartnerKind::HrAgency, ""),
            ("AGENCY-2", PartnerKind::HrAgency, ""),
        ],
        &["BOC"],
    )
    .await;
    set_rates(&mut w.contribution).await;
    World(w)
}

fn enrol(
    request_id: &str,
    person: &identity::Person,
    scheme: Scheme,
    types: &[InsuranceType],
) -> pb::EnrolRequest {
    pb::EnrolRequest {
        request_id: request_id.into(),
        person_id: person.person_id.clone(),
        region_code: REGION.into(),
        insurance_types: types.iter().map(|t| *t as i32).collect(),
        scheme: scheme as i32,
        employer_code: String::new(),
        agency_contract_id: String::new(),
        start: ym(2026, 1),
    }
}

fn employee(request_id: &str, person: &identity::Person, employer: &str) -> pb::EnrolRequest {
    pb::EnrolRequest {
        employer_code: employer.into(),
        ..enrol(
            request_id,
            person,
            Scheme::Employee,
            &[InsuranceType::OldAge, InsuranceType::Medical],
        )
    }
}

fn wage(
    request_id: &str,
    person: &identity::Person,
    month: i32,
    fen_amount: i64,
) -> pb::DeclareWageRequest {
    pb::DeclareWageRequest {
        request_id: request_id.into(),
        person_id: person.person_id.clone(),
        period: Some(pb::declare_wage_request::Period::Month(YearMonth {
            year: 2026,
            month,
        })),
        monthly_wage: fen(fen_amount),
    }
}

async fn run(
    contribution: &mut Contribution,
    request_id: &str,
    month: i32,
    payer: &str,
) -> Vec<pb::RunMonthProgress> {
    let mut stream = contribution
        .run_month(operator(pb::RunMonthRequest {
            request_id: request_id.into(),
            period: ym(2026, month),
            region_code: REGION.into(),
            payer_code: payer.into(),
        }))
        .await
        .unwrap()
        .into_inner();
    let mut progress = Vec::new();
    while let Some(message) = stream.next().await {
        progress.push(message.unwrap_or_else(|e| {
            panic!(
                "{e:?}\n{}",
                system_tests::logs::captured()
                    .lines()
                    .filter(|l| l.contains("ERROR"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        }));
    }
    progress
}

async fn bill(
    contribution: &mut Contribution,
    caller: &str,
    payer: &str,
    month: i32,
    as_of: Option<Date>,
) -> pb::Bill {
    contribution
        .get_bill(as_caller(
            caller,
            pb::GetBillRequest {
                payer: payer.into(),
                period: ym(2026, month),
                as_of,
            },
        ))
        .await
        .unwrap()
        .into_inner()
}

async fn statement(
    contribution: &mut Contribution,
    request: tonic::Request<pb::GetStatementRequest>,
) -> pb::Statement {
    contribution
        .get_statement(request)
        .await
        .unwrap()
        .into_inner()
}

fn statement_request(person: &identity::Person) -> pb::GetStatementRequest {
    pb::GetStatementRequest {
        person_id: person.person_id.clone(),
        from: ym(2026, 1),
        to: ym(2026, 12),
        page: None,
    }
}

/// (type, part, account, amount) of each line of a statement.
fn lines(statement: &pb::Statement) -> Vec<(i32, String, i32, i64)> {
    statement
        .lines
        .iter()
        .map(|l| {
            (
                l.insurance_type,
                l.part.clone(),
                l.account,
                l.amount.unwrap().fen,
            )
        })
        .collect()
}

const OLD_AGE: i32 = InsuranceType::OldAge as i32;
const MEDICAL: i32 = InsuranceType::Medical as i32;
const POOLING: i32 = pb::Account::PoolingFund as i32;
const INDIVIDUAL: i32 = pb::Account::IndividualAccount as i32;

#[tokio::test]
async fn employer_and_employee_shares_are_split_between_fund_and_account_to_the_fen() {
    let mut w = world().await;
    let mid = journeys::register(&mut w.identity, "甲中").await;
    let low = journeys::register(&mut w.identity, "乙低").await;
    let high = journeys::register(&mut w.identity, "丙高").await;
    for (i, person) in [&mid, &low, &high].into_iter().enumerate() {
        w.contribution
            .enrol(operator(employee(&format!("e-{i}"), person, "EMP-1")))
            .await
            .unwrap();
    }
    for (i, (person, amount)) in [(&mid, 1_000_055), (&low, 500_000), (&high, 5_000_000)]
        .into_iter()
        .enumerate()
    {
        w.contribution
            .declare_wage(as_caller(
                "employer:EMP-1",
                wage(&format!("w-{i}"), person, 1, amount),
            ))
            .await
            .unwrap();
    }

    let progress = run(&mut w.contribution, "run-1", 1, "").await;
    let done = progress.last().unwrap();
    assert!(done.done && done.enrolments_total == 6 && done.enrolments_done == 6);
    assert_eq!(done.entries, 12);
    assert!(progress.len() >= 2, "progress is reported before the end");

    // Wage 10,000.55 yuan is within the limits:
    //   old-age 16% = 160,008.80 -> 160,009; 8% = 80,004.40 -> 80,004 (half up to the fen)
    //   medical 9.8% = 98,005.39 -> 98,010; 2% = 20,001.10 -> 20,010 (up to the jiao)
    let s = statement(&mut w.contribution, operator(statement_request(&mid))).await;
    assert_eq!(
        lines(&s),
        vec![
            (MEDICAL, "EMPLOYEE".into(), INDIVIDUAL, 20_010),
            (MEDICAL, "EMPLOYER".into(), POOLING, 98_010),
            (OLD_AGE, "EMPLOYEE".into(), INDIVIDUAL, 80_004),
            (OLD_AGE, "EMPLOYER".into(), POOLING, 160_009),
        ]
    );
    assert_eq!(s.individual_account_total.unwrap().fen, 20_010 + 80_004);
    assert_eq!(s.pooling_fund_total.unwrap().fen, 98_010 + 160_009);
    assert!(
        s.lines
            .iter()
            .all(|l| l.payer == "employer:EMP-1" && !l.paid)
    );

    // Wage 5,000 yuan is below the floor: the base is 7,162.20 yuan.
    //   old-age 16% = 114,595.20 -> 114,595; 8% = 57,297.60 -> 57,298
    //   medical 9.8% = 70,189.56 -> 70,190; 2% = 14,324.40 -> 14,330
    let s = statement(&mut w.contribution, operator(statement_request(&low))).await;
    let amounts: Vec<i64> = lines(&s).into_iter().map(|l| l.3).collect();
    assert_eq!(amounts, [14_330, 70_190, 57_298, 114_595]);
    assert!(s.lines.iter().all(|l| l.base.unwrap().fen == 716_220));

    // Wage 50,000 yuan is above the ceiling: the base is 35,811 yuan.
    //   old-age 16% = 572,976; 8% = 286,488; medical 9.8% = 350,947.80 -> 350,950;
    //   2% = 71,622 -> 71,630
    let s = statement(&mut w.contribution, operator(statement_request(&high))).await;
    let amounts: Vec<i64> = lines(&s).into_iter().map(|l| l.3).collect();
    assert_eq!(amounts, [71_630, 350_950, 286_488, 572_976]);

    // The employer's bill is the sum of every line; the funds reconcile.
    let b = bill(
        &mut w.contribution,
        "employer:EMP-1",
        "",
        1,
        day(2026, 2, 1),
    )
    .await;
    let expected = 20_010
        + 98_010
        + 80_004
        + 160_009
        + 14_330
        + 70_190
        + 57_298
        + 114_595
        + 71_630
        + 350_950
        + 286_488
        + 572_976;
    assert_eq!(b.contributions.unwrap().fen, expected);
    assert_eq!(done.total.unwrap().fen, expected);
    assert_eq!(b.due_date, day(2026, 2, 15));
    assert_eq!(b.late_fee.unwrap().fen, 0);

    // A rerun adds nothing.
    let again = run(&mut w.contribution, "run-2", 1, "").await;
    assert_eq!(again.last().unwrap().entries, 0);
    // A retried run answers with the first outcome.
    let retried = run(&mut w.contribution, "run-1", 1, "").await;
    assert_eq!(retried, vec![done.clone()]);
}

#[tokio::test]
async fn a_wage_correction_creates_adjustments_never_overwrites() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "丁调").await;
    w.contribution
        .enrol(operator(employee("e-1", &person, "EMP-2")))
        .await
        .unwrap();
    w.contribution
        .declare_wage(as_caller(
            "employer:EMP-2",
            wage("w-1", &person, 3, 1_000_055),
        ))
        .await
        .unwrap();
    run(&mut w.contribution, "run-3a", 3, "employer:EMP-2").await;

    let corrected = w
        .contribution
        .declare_wage(as_caller(
            "employer:EMP-2",
            wage("w-2", &person, 3, 1_200_000),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(corrected.corrected);
    let progress = run(&mut w.contribution, "run-3b", 3, "employer:EMP-2").await;
    let done = progress.last().unwrap();
    // 12,000 yuan: old-age 192,000 (+31,991) and 96,000 (+15,996);
    // medical 117,600 (+19,590) and 24,000 (+3,990).
    assert_eq!((done.entries, done.adjustments), (4, 4));
    assert_eq!(done.total.unwrap().fen, 31_991 + 15_996 + 19_590 + 3_990);
    let s = statement(&mut w.contribution, operator(statement_request(&person))).await;
    let amounts: Vec<i64> = lines(&s).into_iter().map(|l| l.3).collect();
    assert_eq!(amounts, [24_000, 117_600, 96_000, 192_000]);
    assert!(s.lines.iter().all(|l| l.base.unwrap().fen == 1_200_000));
}

#[tokio::test]
async fn a_late_payment_accrues_the_late_fee_exactly() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "戊迟").await;
    w.contribution
        .enrol(operator(employee("e-1", &person, "EMP-1")))
        .await
        .unwrap();
    w.contribution
        .declare_wage(as_caller(
            "employer:EMP-1",
            wage("w-1", &person, 1, 1_000_055),
        ))
        .await
        .unwrap();
    run(&mut w.contribution, "run", 1, "").await;

    // Contributions 358,033 fen, due 15 Feb; paid 25 Feb, ten days late:
    // 358,033 x 0.05% x 10 = 1,790.165 -> 1,790 fen.
    let as_of = day(2026, 2, 25);
    let owed = bill(
        &mut w.contribution,
        "employer:EMP-1",
        "employer:EMP-1",
        1,
        as_of,
    )
    .await;
    assert_eq!(owed.contributions.unwrap().fen, 358_033);
    assert_eq!(owed.late_fee.unwrap().fen, 1_790);
    assert_eq!(owed.outstanding.unwrap().fen, 359_823);

    // The employer asks for a payment order on 25 February: no more than is
    // owed, and only for its own bill.
    w.system
        .clock
        .set(on(2026, 2, 25).and_hms_opt(2, 0, 0).unwrap().and_utc());
    let order = |request_id: &str, amount: i64| pb::CreatePaymentOrderRequest {
        request_id: request_id.into(),
        payer: "employer:EMP-1".into(),
        period: ym(2026, 1),
        amount: fen(amount),
    };
    let status = w
        .contribution
        .create_payment_order(as_caller("employer:EMP-1", order("order-1", 359_824)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "PAYMENT_EXCEEDS_OWED");
    let status = w
        .contribution
        .create_payment_order(as_caller("employer:EMP-2", order("order-1", 100)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_OWN_RECORD");

    // Everything owed that day, collected by the bank.
    let (order, paid) = pay_through_bank(
        &mut w.0.contribution,
        &w.0.system.clock,
        on(2026, 2, 25),
        ("employer:EMP-1", BANK),
        ("employer:EMP-1", ym(2026, 1).unwrap()),
        None,
        "BOC-SERIAL-2",
    )
    .await;
    assert_eq!(order.amount.unwrap().fen, 359_823);
    assert_eq!(paid.bill.as_ref().unwrap().outstanding.unwrap().fen, 0);
    let retry = socsec_fixtures::payment::collect(
        &mut w.contribution,
        &As(BANK.into()),
        &order,
        "BOC-SERIAL-2",
    )
    .await
    .unwrap();
    assert_eq!(retry, paid);

    // Paid in full: the fee stops accruing and the statement says paid.
    let later = bill(
        &mut w.contribution,
        "operator:OP0001",
        "employer:EMP-1",
        1,
        day(2026, 6, 1),
    )
    .await;
    assert_eq!(later.late_fee.unwrap().fen, 1_790);
    assert_eq!(later.outstanding.unwrap().fen, 0);
    let s = statement(&mut w.contribution, operator(statement_request(&person))).await;
    assert!(s.lines.iter().all(|l| l.paid));

    let arrears = w
        .contribution
        .list_arrears(operator(pb::ListArrearsRequest {
            region_code: REGION.into(),
            as_of: day(2026, 6, 1),
            page: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(arrears.bills.is_empty());
}

#[tokio::test]
async fn a_flexible_worker_enrols_online_pays_and_sees_the_split() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "己灵").await;
    let other = journeys::register(&mut w.identity, "庚他").await;
    w.identity
        .set_online_password(operator(identity::SetOnlinePasswordRequest {
            request_id: "pw".into(),
            id_number: person.id_number.clone(),
            password: "Flexible2026".into(),
        }))
        .await
        .unwrap();
    let token = w
        .identity
        .sign_in(identity::SignInRequest {
            id_number: person.id_number.clone(),
            password: "Flexible2026".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    system_tests::remember_session(&person.person_id, &token);

    let enrolled = w
        .contribution
        .enrol(with_token(
            &token,
            enrol(
                "online-1",
                &person,
                Scheme::Flexible,
                &[InsuranceType::OldAge],
            ),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        enrolled.enrolments[0].channel,
        pb::EnrolmentChannel::Online as i32
    );
    let status = w
        .contribution
        .enrol(with_token(
            &token,
            enrol(
                "online-2",
                &other,
                Scheme::Flexible,
                &[InsuranceType::OldAge],
            ),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_OWN_RECORD");

    // The worker chooses a base of 8,000 yuan.
    w.contribution
        .declare_wage(with_token(&token, wage("base-1", &person, 1, 800_000)))
        .await
        .unwrap();
    run(&mut w.contribution, "run", 1, "").await;

    // 20% of 8,000 yuan = 1,600 yuan: 8% (640) to the individual account,
    // 12% (960) to the pooling fund.
    let payer = format!("person:{}", person.person_id);
    let b = w
        .contribution
        .get_bill(with_token(
            &token,
            pb::GetBillRequest {
                payer: String::new(),
                period: ym(2026, 1),
                as_of: day(2026, 1, 31),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(b.contributions.unwrap().fen, 160_000);
    pay_through_bank(
        &mut w.0.contribution,
        &w.0.system.clock,
        on(2026, 1, 31),
        (&payer, BANK),
        (&payer, ym(2026, 1).unwrap()),
        Some(160_000),
        "BOC-0001",
    )
    .await;

    let s = statement(
        &mut w.contribution,
        with_token(&token, statement_request(&person)),
    )
    .await;
    assert_eq!(
        lines(&s),
        vec![
            (OLD_AGE, "FLEXIBLE_INDIVIDUAL".into(), INDIVIDUAL, 64_000),
            (OLD_AGE, "FLEXIBLE_POOLING".into(), POOLING, 96_000),
        ]
    );
    assert!(s.lines.iter().all(|l| l.paid && l.payer == payer));
    assert_eq!(
        (
            s.individual_account_total.unwrap().fen,
            s.pooling_fund_total.unwrap().fen
        ),
        (64_000, 96_000)
    );

    let status = w
        .contribution
        .get_statement(with_token(&token, statement_request(&other)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(reason(&status), "NOT_OWN_RECORD");
}

#[tokio::test]
async fn an_agency_pays_its_clients_contributions_and_service_fee() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "辛代").await;
    w.system.sign_in(&person).await;
    let contract = w
        .contribution
        .register_agency_contract(as_caller(
            "hr_agency:AGENCY-1",
            pb::RegisterAgencyContractRequest {
                request_id: "contract-1".into(),
                agency_code: "AGENCY-1".into(),
                person_id: person.person_id.clone(),
                monthly_service_fee: fen(10_000),
                start: ym(2026, 1),
                end: ym(2026, 12),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    // The person consents (tests/tests/agency_consent.rs: without it the
    // agency can do nothing for them).
    w.contribution
        .confirm_agency_contract(as_caller(
            &format!("person:{}", person.person_id),
            pb::ConfirmAgencyContractRequest {
                request_id: "consent-1".into(),
                contract_id: contract.contract_id.clone(),
            },
        ))
        .await
        .unwrap();
    let enrolment = pb::EnrolRequest {
        agency_contract_id: contract.contract_id.clone(),
        ..enrol(
            "agency-enrol",
            &person,
            Scheme::Agency,
            &[InsuranceType::OldAge],
        )
    };
    let status = w
        .contribution
        .enrol(as_caller("hr_agency:AGENCY-2", enrolment.clone()))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "CONTRACT_MISMATCH");
    let enrolled = w
        .contribution
        .enrol(as_caller("hr_agency:AGENCY-1", enrolment))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        enrolled.enrolments[0].channel,
        pb::EnrolmentChannel::Agency as i32
    );
    w.contribution
        .declare_wage(as_caller(
            "hr_agency:AGENCY-1",
            wage("agency-wage", &person, 1, 600_000),
        ))
        .await
        .unwrap();
    run(&mut w.contribution, "run", 1, "hr_agency:AGENCY-1").await;

    // 6,000 yuan is below the floor (7,162.20): 16% = 114,595, 8% = 57,298,
    // plus the 100 yuan service fee: 181,893 fen, all paid by the person
    // through the agency.
    let b = bill(
        &mut w.contribution,
        "hr_agency:AGENCY-1",
        "",
        1,
        day(2026, 1, 20),
    )
    .await;
    assert_eq!(
        (b.contributions.unwrap().fen, b.service_fees.unwrap().fen),
        (171_893, 10_000)
    );
    assert_eq!(b.outstanding.unwrap().fen, 181_893);
    // Another agency can neither see nor pay this agency's bill.
    for status in [
        w.contribution
            .get_bill(as_caller(
                "hr_agency:AGENCY-2",
                pb::GetBillRequest {
                    payer: "hr_agency:AGENCY-1".into(),
                    period: ym(2026, 1),
                    as_of: day(2026, 1, 20),
                },
            ))
            .await
            .unwrap_err(),
        w.contribution
            .create_payment_order(as_caller(
                "hr_agency:AGENCY-2",
                pb::CreatePaymentOrderRequest {
                    request_id: "agency-2-pays".into(),
                    payer: "hr_agency:AGENCY-1".into(),
                    period: ym(2026, 1),
                    amount: fen(100),
                },
            ))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::PermissionDenied);
        assert_eq!(reason(&status), "NOT_OWN_RECORD");
    }
    pay_through_bank(
        &mut w.0.contribution,
        &w.0.system.clock,
        on(2026, 1, 20),
        ("hr_agency:AGENCY-1", BANK),
        ("hr_agency:AGENCY-1", ym(2026, 1).unwrap()),
        Some(181_893),
        "BOC-AGENCY-1",
    )
    .await;

    // The person inquires; so may the agency; another agency may not.
    let mine = statement(&mut w.contribution, operator(statement_request(&person))).await;
    assert_eq!(
        lines(&mine),
        vec![
            (
                0,
                "SERVICE_FEE".into(),
                pb::Account::ServiceFee as i32,
                10_000
            ),
            (OLD_AGE, "EMPLOYEE".into(), INDIVIDUAL, 57_298),
            (OLD_AGE, "EMPLOYER".into(), POOLING, 114_595),
        ]
    );
    assert!(
        mine.lines
            .iter()
            .all(|l| l.paid && l.payer == "hr_agency:AGENCY-1")
    );
    statement(
        &mut w.contribution,
        as_caller("hr_agency:AGENCY-1", statement_request(&person)),
    )
    .await;
    let status = w
        .contribution
        .get_statement(as_caller("hr_agency:AGENCY-2", statement_request(&person)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_OWN_RECORD");

    // A long history also streams, line by line.
    let streamed: Vec<pb::StatementLine> = w
        .contribution
        .stream_statement(operator(pb::StreamStatementRequest {
            person_id: person.person_id.clone(),
            from: ym(2026, 1),
            to: ym(2026, 12),
        }))
        .await
        .unwrap()
        .into_inner()
        .map(|l| l.unwrap())
        .collect()
        .await;
    assert_eq!(streamed, mine.lines);
}

#[tokio::test]
async fn bad_enrolments_and_declarations_are_refused_with_reasons() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "壬错").await;

    let mut unknown_region = employee("x-1", &person, "EMP-1");
    unknown_region.region_code = "999999".into();
    let status = w
        .contribution
        .enrol(operator(unknown_region))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "REGION_UNKNOWN");

    let mut unregistered = employee("x-2", &person, "EMP-1");
    unregistered.person_id = "0190f2c4-0000-7000-8000-000000000001".into();
    let status = w
        .contribution
        .enrol(operator(unregistered))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "PERSON_NOT_FOUND");

    let status = w
        .contribution
        .enrol(operator(employee("x-3", &person, "NOT-AN-EMPLOYER")))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "PAYER_NOT_REGISTERED");

    let status = w
        .contribution
        .declare_wage(operator(wage("x-4", &person, 1, 500_000)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "PERIOD_BEFORE_ENROLMENT");

    w.contribution
        .enrol(operator(employee("x-5", &person, "EMP-1")))
        .await
        .unwrap();
    let status = w
        .contribution
        .enrol(operator(employee("x-6", &person, "EMP-2")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(reason(&status), "ENROLMENT_OVERLAPS");

    let status = w
        .contribution
        .declare_wage(operator(wage("x-7", &person, 1, -1)))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        vec![("monthly_wage".into(), "AMOUNT_NEGATIVE".into())]
    );
    let status = w
        .contribution
        .declare_wage(operator(wage("x-8", &person, 1, 10_000_000_000)))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        vec![("monthly_wage".into(), "AMOUNT_ABSURD".into())]
    );
    let status = w
        .contribution
        .declare_wage(as_caller(
            "employer:EMP-2",
            wage("x-9", &person, 1, 500_000),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_OWN_RECORD");
    // Nor may the employee set the base their employer pays on.
    let token = w.system.sign_in(&person).await;
    let status = w
        .contribution
        .declare_wage(with_token(&token, wage("x-9b", &person, 1, 100)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_PAYER_FOR_PERIOD");

    let status = w
        .contribution
        .run_month(operator(pb::RunMonthRequest {
            request_id: "r".into(),
            period: ym(2026, 13),
            region_code: "1".into(),
            payer_code: String::new(),
        }))
        .await
        .unwrap_err();
    let fields: Vec<String> = bad_fields(&status).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["period", "region_code"]);

    // A month whose year has no rates.
    let mut next_year = employee("x-10", &person, "EMP-1");
    next_year.insurance_types = vec![InsuranceType::Unemployment as i32];
    w.contribution.enrol(operator(next_year)).await.unwrap();
    let mut stream = w
        .contribution
        .run_month(operator(pb::RunMonthRequest {
            request_id: "r2".into(),
            period: ym(2026, 2),
            region_code: REGION.into(),
            payer_code: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    let status = loop {
        match stream.next().await.unwrap() {
            Ok(_) => continue,
            Err(status) => break status,
        }
    };
    assert_eq!(reason(&status), "RATE_TABLE_MISSING");
    let _ = &w.system;
}

#[tokio::test]
async fn changing_a_rate_table_never_rewrites_what_was_computed() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "癸率").await;
    w.contribution
        .enrol(operator(employee("e", &person, "EMP-1")))
        .await
        .unwrap();
    w.contribution
        .declare_wage(as_caller(
            "employer:EMP-1",
            wage("w", &person, 1, 1_000_055),
        ))
        .await
        .unwrap();
    run(&mut w.contribution, "run-a", 1, "").await;

    let mut changed = w
        .contribution
        .get_rate_table(operator(pb::GetRateTableRequest {
            region_code: REGION.into(),
            insurance_type: InsuranceType::OldAge as i32,
            year: 2026,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(changed.version, 1);
    changed.employer_rate_bp = 1400;
    let v2 = w
        .contribution
        .set_rate_table(operator(pb::SetRateTableRequest {
            request_id: "rates-v2".into(),
            table: Some(changed),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v2.version, 2);

    // January keeps version 1; February is computed with version 2 (14%).
    let rerun = run(&mut w.contribution, "run-b", 1, "").await;
    assert_eq!(rerun.last().unwrap().entries, 0);
    w.contribution
        .declare_wage(as_caller(
            "employer:EMP-1",
            wage("w2", &person, 2, 1_000_055),
        ))
        .await
        .unwrap();
    run(&mut w.contribution, "run-c", 2, "").await;
    let s = statement(&mut w.contribution, operator(statement_request(&person))).await;
    let employer_old_age: Vec<i64> = s
        .lines
        .iter()
        .filter(|l| l.insurance_type == OLD_AGE && l.part == "EMPLOYER")
        .map(|l| l.amount.unwrap().fen)
        .collect();
    // 14% of 10,000.55 yuan = 140,007.70 -> 140,008.
    assert_eq!(employer_old_age, [160_009, 140_008]);
}

/// The run rounds in SQL (`round_fen`), bills in Rust (`Rounding::apply`):
/// both must agree to the fen on any amount.
#[tokio::test]
async fn sql_and_rust_rounding_agree() {
    use contribution::domain::Rounding as Rule;
    use sqlx::Connection;
    let w = world().await;
    let mut conn = sqlx::PgConnection::connect(&w.system.database_url)
        .await
        .unwrap();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..500 {
        let numerator = i128::from(next() % 10_000_000_000);
        let denominator = i128::from(next() % 100_000 + 1);
        for (rule, name) in [(Rule::HalfUpFen, "HALF_UP_FEN"), (Rule::UpJiao, "UP_JIAO")] {
            let sql: i64 = sqlx::query_scalar("SELECT contribution.round_fen($1, $2, $3)")
                .bind(numerator as i64)
                .bind(denominator as i64)
                .bind(name)
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(
                sql,
                rule.apply(numerator, denominator),
                "{numerator}/{denominator} {name}"
            );
        }
    }
}
