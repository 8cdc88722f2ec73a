//! What the load needs besides received cards: a pharmacy and employers
//! (identity), and bills to pay (contribution): this year's rates, the
//! first persons enrolled as employees of the employers with a declared
//! wage, and this month run.

use chrono::{Datelike, FixedOffset, Utc};
use devpki::channel::CallerChannel;
use futures::StreamExt;
use socsec_bench::{
    load,
    prepare::{self, Partner, Prepared},
    services::as_caller,
};
use socsec_fixtures::{payment::COLLECTING_BANK, rates};
use socsec_proto::{
    common::v1::{Money, PartnerKind, YearMonth},
    contribution::v1::{
        self as contribution, contribution_service_client::ContributionServiceClient,
    },
    identity::v1::identity_service_client::IdentityServiceClient,
};

/// The region the employees are enrolled in.
const REGION: &str = "110100";
/// Employees per employer.
const EMPLOYEES: usize = 50;
/// What each employee earns a month: 10,000 yuan.
const WAGE_FEN: i64 = 1_000_000;

/// The employers the load pays for, with valid credit codes.
pub fn employers() -> Vec<(String, String)> {
    (1..=4)
        .map(|n| {
            let credit =
                pii::CreditCode::from_body(&format!("9111000010000{n:04}")).expect("a credit code");
            (format!("EMP-F{n}"), credit.as_str().to_owned())
        })
        .collect()
}

/// Everyone the load calls as.
pub fn callers() -> Vec<String> {
    let mut callers: Vec<String> = socsec_bench::services::CALLERS
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    callers.push("pharmacy:P-001".into());
    callers.push(format!("bank:{COLLECTING_BANK}"));
    callers.extend(
        employers()
            .into_iter()
            .map(|(code, _)| format!("employer:{code}")),
    );
    callers
}

/// Registers the pharmacy and the employers.
pub async fn partners(identity: &IdentityServiceClient<CallerChannel>) {
    let employers = employers();
    let mut partners = vec![
        Partner::new("P-001", PartnerKind::Pharmacy),
        Partner {
            collects_contributions: true,
            ..Partner::new(COLLECTING_BANK, PartnerKind::Bank)
        },
    ];
    partners.extend(employers.iter().map(|(code, credit)| Partner {
        credit_code: credit,
        ..Partner::new(code, PartnerKind::Employer)
    }));
    prepare::register_partners(identity, &partners).await;
}

/// This month, in China time.
pub fn this_month() -> YearMonth {
    let now = Utc::now().with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"));
    YearMonth {
        year: now.year(),
        month: now.month() as i32,
    }
}

/// Sets this year's old-age and medical rates, enrols the holders of the
/// first cards as employees (old-age and medical) spread over the
/// employers, declares their wages and runs this month: each employer has
/// a bill. The employers' codes.
pub async fn bills(
    contribution: &ContributionServiceClient<CallerChannel>,
    cards: &[Prepared],
) -> Vec<String> {
    let period = this_month();
    let kinds = [
        contribution::InsuranceType::OldAge,
        contribution::InsuranceType::Medical,
    ];
    for kind in kinds {
        contribution
            .clone()
            .set_rate_table(as_caller(
                "operator:BENCH",
                contribution::SetRateTableRequest {
                    request_id: format!("faults-rates-{}", kind.as_str_name()),
                    table: Some(rates::typical(REGION, kind, period.year)),
                },
            ))
            .await
            .expect("rates");
    }
    let employers: Vec<String> = employers().into_iter().map(|(code, _)| code).collect();
    let count = (employers.len() * EMPLOYEES).min(cards.len());
    let persons: Vec<String> = cards[..count].iter().map(|c| c.person_id.clone()).collect();
    let (c, e) = (contribution.clone(), employers.clone());
    let enrolled = load::closed_loop(4, count, None, move |n| {
        let (mut contribution, person_id) = (c.clone(), persons[n].clone());
        let employer = e[n % e.len()].clone();
        async move {
            let enrolled = contribution
                .enrol(as_caller(
                    "operator:BENCH",
                    contribution::EnrolRequest {
                        request_id: format!("faults-enrol-{n}"),
                        person_id: person_id.clone(),
                        region_code: REGION.into(),
                        insurance_types: kinds.iter().map(|k| *k as i32).collect(),
                        scheme: contribution::Scheme::Employee as i32,
                        employer_code: employer,
                        agency_contract_id: String::new(),
                        start: Some(period),
                    },
                ))
                .await;
            let declared = contribution
                .declare_wage(as_caller(
                    "operator:BENCH",
                    contribution::DeclareWageRequest {
                        request_id: format!("faults-wage-{n}"),
                        person_id,
                        period: Some(contribution::declare_wage_request::Period::Month(period)),
                        monthly_wage: Some(Money { fen: WAGE_FEN }),
                    },
                ))
                .await;
            enrolled.is_ok() && declared.is_ok()
        }
    })
    .await;
    assert_eq!(enrolled.errors, 0, "every employee enrolled with a wage");
    let mut run = contribution
        .clone()
        .run_month(as_caller(
            "operator:BENCH",
            contribution::RunMonthRequest {
                request_id: "faults-run".into(),
                period: Some(period),
                region_code: REGION.into(),
                payer_code: String::new(),
            },
        ))
        .await
        .expect("the monthly run")
        .into_inner();
    while let Some(progress) = run.next().await {
        progress.expect("run progress");
    }
    println!(
        "{count} employees of {} employers enrolled; {}-{:02} run",
        employers.len(),
        period.year,
        period.month
    );
    employers
}
