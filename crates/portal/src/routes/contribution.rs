//! Contributions: the statement of the last 24 months (chart, totals,
//! insurances and payers), the person's own unpaid bills with late fees,
//! the CSV download, and a payment order for a flexible worker's bill.

use axum::{
    Form,
    extract::State as Shared,
    http::header,
    response::{IntoResponse, Response},
};
use chrono::{Datelike, FixedOffset, Utc};
use serde::Deserialize;
use socsec_proto::{
    common::v1::{PageRequest, YearMonth},
    contribution::v1 as pb,
};

use super::{Failure, Person, State};
use crate::{
    client::{as_person, request_id},
    pages,
};

/// How many months the statement shows.
const MONTHS: i32 = 24;
/// At most this many statement pages (500 lines each) are read.
const MAX_PAGES: usize = 20;

/// What the contributions page shows.
pub struct Contributions {
    pub statement: pb::Statement,
    /// The person's own bills (flexible worker) not paid in full.
    pub unpaid: Vec<pb::Bill>,
}

fn this_month() -> YearMonth {
    let china = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    let today = Utc::now().with_timezone(&china);
    YearMonth {
        year: today.year(),
        month: today.month() as i32,
    }
}

fn months_before(to: &YearMonth, n: i32) -> YearMonth {
    let index = to.year * 12 + (to.month - 1) - n;
    YearMonth {
        year: index.div_euclid(12),
        month: index.rem_euclid(12) + 1,
    }
}

/// Every line of the statement of the last [`MONTHS`] months.
async fn statement(state: &State, person: &Person) -> Result<pb::Statement, Failure> {
    let to = this_month();
    let from = months_before(&to, MONTHS - 1);
    let mut whole = pb::Statement::default();
    let mut page_token = String::new();
    for _ in 0..MAX_PAGES {
        let page = state
            .services
            .contribution()
            .get_statement(as_person(
                &person.token,
                pb::GetStatementRequest {
                    person_id: person.person_id.clone(),
                    from: Some(from),
                    to: Some(to),
                    page: Some(PageRequest {
                        page_size: 500,
                        page_token,
                    }),
                },
            ))
            .await
            .map_err(Failure::call(person.lang))?
            .into_inner();
        whole.lines.extend(page.lines);
        whole.individual_account_total = page.individual_account_total;
        whole.pooling_fund_total = page.pooling_fund_total;
        page_token = page.page.unwrap_or_default().next_page_token;
        if page_token.is_empty() {
            break;
        }
    }
    Ok(whole)
}

pub async fn show(Shared(state): Shared<State>, person: Person) -> Result<Response, Failure> {
    let statement = statement(&state, &person).await?;
    let own = format!("person:{}", person.person_id);
    let mut periods: Vec<(i32, i32)> = statement
        .lines
        .iter()
        .filter(|l| !l.paid && l.payer == own)
        .filter_map(|l| l.period.map(|p| (p.year, p.month)))
        .collect();
    periods.sort_unstable();
    periods.dedup();
    let mut unpaid = Vec::new();
    for (year, month) in periods {
        let bill = state
            .services
            .contribution()
            .get_bill(as_person(
                &person.token,
                pb::GetBillRequest {
                    payer: own.clone(),
                    period: Some(YearMonth { year, month }),
                    as_of: None,
                },
            ))
            .await
            .map_err(Failure::call(person.lang))?
            .into_inner();
        if bill.outstanding.is_some_and(|m| m.fen > 0) {
            unpaid.push(bill);
        }
    }
    let data = Contributions { statement, unpaid };
    Ok(pages::contributions::page(&person, &data).into_response())
}

/// The statement as CSV (amounts in fen, one line per statement line).
pub async fn csv(Shared(state): Shared<State>, person: Person) -> Result<Response, Failure> {
    let statement = statement(&state, &person).await?;
    let mut out =
        String::from("period,insurance_type,part,account,payer,base_fen,rate_bp,amount_fen,paid\n");
    for line in &statement.lines {
        let period = line.period.unwrap_or_default();
        let insurance = pb::InsuranceType::try_from(line.insurance_type)
            .map(|t| t.as_str_name())
            .unwrap_or("UNKNOWN");
        let account = pb::Account::try_from(line.account)
            .map(|a| a.as_str_name())
            .unwrap_or("UNKNOWN");
        out.push_str(&format!(
            "{:04}-{:02},{insurance},{},{account},{},{},{},{},{}\n",
            period.year,
            period.month,
            csv_field(&line.part),
            csv_field(&line.payer),
            line.base.unwrap_or_default().fen,
            line.rate_bp,
            line.amount.unwrap_or_default().fen,
            line.paid,
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"statement.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

/// A field as CSV: quoted when it holds a separator, a quote or a line
/// break, and never starting a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[derive(Deserialize)]
pub struct Pay {
    csrf: String,
    /// `YYYY-MM`.
    period: String,
}

pub async fn pay(
    Shared(state): Shared<State>,
    person: Person,
    Form(form): Form<Pay>,
) -> Result<Response, Failure> {
    person.check(&state, &form.csrf)?;
    let period = form
        .period
        .split_once('-')
        .and_then(|(y, m)| {
            Some(YearMonth {
                year: y.parse().ok()?,
                month: m.parse().ok()?,
            })
        })
        .unwrap_or_default();
    let order = state
        .services
        .contribution()
        .create_payment_order(as_person(
            &person.token,
            pb::CreatePaymentOrderRequest {
                request_id: request_id("order"),
                payer: String::new(),
                period: Some(period),
                amount: None,
            },
        ))
        .await
        .map_err(Failure::call(person.lang))?
        .into_inner();
    Ok(pages::contributions::order(&person, &order).into_response())
}
