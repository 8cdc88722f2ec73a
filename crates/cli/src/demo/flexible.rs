//! Journey 7: a flexible worker enrols online and pays monthly.

use chrono::{Datelike, Utc};
use socsec_fixtures::{
    ids, journey,
    payment::{self, COLLECTING_BANK},
};
use socsec_proto::{
    common::v1::{self as common, Gender},
    contribution::v1 as contribution,
    identity::v1 as identity,
};

use super::{REGION, step};
use crate::{
    connection::{Connection, Outcome},
    output::{Printer, print_statement, yuan},
};

pub(super) async fn flexible_worker(c: &Connection, out: Printer) -> Outcome {
    let mut identity = c.identity().await?;
    let id_number = ids::random(true);
    let person = journey::register(
        &mut identity,
        c,
        id_number.clone(),
        identity::BasicInfo {
            phone: "13700137000".into(),
            address: "北京市朝阳区".into(),
            ..journey::basic_info("张自由", Gender::Male)
        },
    )
    .await?;
    enrol_and_pay_online(c, out, person, id_number, "Demo2026pass").await
}

/// Sets `person`'s (ID number `id_number`) online password at the counter, signs in with it, and
/// enrols them as a flexible worker who pays this month through the bank.
pub(super) async fn enrol_and_pay_online(
    c: &Connection,
    out: Printer,
    person: identity::Person,
    id_number: String,
    password: &str,
) -> Outcome {
    let mut identity = c.identity().await?;
    identity
        .set_online_password(c.request(identity::SetOnlinePasswordRequest {
            request_id: format!("demo-password-{}", person.person_id),
            id_number: id_number.clone(),
            password: password.into(),
        }))
        .await?;
    let session = identity
        .sign_in(identity::SignInRequest {
            id_number: id_number.clone(),
            password: password.into(),
        })
        .await?
        .into_inner();
    step(
        out,
        format!(
            "password set at the counter; signed in online (portal: ID number {id_number}, password {password})"
        ),
    );
    let online = Connection {
        token: Some(session.token),
        ..c.clone()
    };
    let mut contributions = c.contribution().await?;
    let now = Utc::now();
    let period = common::YearMonth {
        year: now.year(),
        month: now.month() as i32,
    };
    contributions
        .enrol(online.request(contribution::EnrolRequest {
            request_id: format!("demo-enrol-{}", person.person_id),
            person_id: person.person_id.clone(),
            region_code: REGION.into(),
            insurance_types: vec![contribution::InsuranceType::OldAge as i32],
            scheme: contribution::Scheme::Flexible as i32,
            employer_code: String::new(),
            agency_contract_id: String::new(),
            start: Some(period),
        }))
        .await?;
    contributions
        .declare_wage(online.request(contribution::DeclareWageRequest {
            request_id: format!("demo-base-{}", person.person_id),
            person_id: person.person_id.clone(),
            period: Some(contribution::declare_wage_request::Period::Month(period)),
            monthly_wage: Some(common::Money { fen: 800_000 }),
        }))
        .await?;
    step(
        out,
        "enrolled online in old-age insurance, base 8,000.00 yuan".into(),
    );
    let mut run = contributions
        .run_month(c.request(contribution::RunMonthRequest {
            request_id: format!("demo-run-{}", person.person_id),
            period: Some(period),
            region_code: REGION.into(),
            payer_code: format!("person:{}", person.person_id),
        }))
        .await?
        .into_inner();
    while let Some(progress) = futures::StreamExt::next(&mut run).await {
        progress?;
    }
    let payer = format!("person:{}", person.person_id);
    let bill = contributions
        .get_bill(online.request(contribution::GetBillRequest {
            payer: payer.clone(),
            period: Some(period),
            as_of: None,
        }))
        .await?
        .into_inner();
    let owed = bill.outstanding.map_or(0, |m| m.fen);
    step(out, format!("this month's bill: {} yuan", yuan(owed)));
    let order = payment::order(
        &mut contributions,
        &online,
        &format!("demo-order-{}", person.person_id),
        &payer,
        period,
        None,
    )
    .await?;
    step(
        out,
        format!(
            "payment order {} for {} yuan, valid until the end of today",
            order.order_id,
            yuan(order.amount.map_or(0, |m| m.fen))
        ),
    );
    let bank = Connection {
        caller: format!("bank:{COLLECTING_BANK}"),
        token: None,
        ..c.clone()
    };
    let reference = format!("BOC-{}", person.person_id.replace('-', ""));
    let paid = payment::collect(&mut contributions, &bank, &order, &reference).await?;
    step(
        out,
        format!(
            "collecting bank {COLLECTING_BANK} recorded the payment (reference {}); outstanding now {} yuan",
            paid.bank_reference,
            yuan(paid.bill.and_then(|b| b.outstanding).map_or(0, |m| m.fen))
        ),
    );
    let statement = contributions
        .get_statement(online.request(contribution::GetStatementRequest {
            person_id: person.person_id,
            from: Some(period),
            to: Some(period),
            page: None,
        }))
        .await?
        .into_inner();
    if out.json {
        out.message("socsec.contribution.v1.Statement", &statement);
    } else {
        print_statement(&statement);
    }
    Ok(())
}
