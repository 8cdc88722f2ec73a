//! Bills and arrears. A bill is computed from the ledger and the payments
//! (not reversed) whenever it is asked for; only payments are stored
//! (`payments.rs` records them).

use chrono::NaiveDate;
use platform::{
    audit::{self, Access},
    auth::Caller,
};
use sqlx::PgConnection;

use super::{ContributionService, Result};
use crate::{
    domain::{
        ArrearsKey, Bill, Payer, Period, access,
        commands::{ArrearsQuery, BillQuery},
    },
    error::ContributionError,
    store,
};

/// A page of overdue bills, and where the scan stopped.
#[derive(Clone, Debug)]
pub struct Arrears {
    pub bills: Vec<Bill>,
    /// How many unpaid bills were looked at (a full page means more may follow).
    pub scanned: usize,
    pub last: Option<ArrearsKey>,
}

/// The bill of `payer` for `period`, with the late fee as of `as_of`.
pub(super) async fn bill(
    conn: &mut PgConnection,
    payer: &Payer,
    period: Period,
    as_of: NaiveDate,
) -> Result<Bill> {
    let sums = store::bill_sums(&mut *conn, payer, period).await?;
    let region = sums.region_code.ok_or(ContributionError::BillNotFound)?;
    let terms = store::bill_terms(&mut *conn, &region, period.year())
        .await?
        .ok_or(ContributionError::RegionUnknown)?;
    let payments = store::payments(&mut *conn, payer, period).await?;
    Ok(Bill::compute(
        payer.clone(),
        period,
        sums.contributions,
        sums.service_fees,
        terms,
        &payments,
        as_of,
    ))
}

impl ContributionService {
    pub async fn bill(&self, caller: &Caller, q: BillQuery) -> Result<Bill> {
        if !access::may_pay(caller, &q.payer) {
            return Err(ContributionError::NotOwnRecord);
        }
        let mut conn = self.pool.acquire().await?;
        if let Some(person) = q.payer.person() {
            audit::record(
                &mut conn,
                caller,
                "GetBill",
                Access::Read,
                &person.to_string(),
                None,
            )
            .await?;
        }
        bill(&mut conn, &q.payer, q.period, q.as_of).await
    }

    /// Overdue bills of a region as of a day, a page of unpaid bills at a time.
    pub async fn arrears(&self, caller: &Caller, q: ArrearsQuery) -> Result<Arrears> {
        let mut conn = self.pool.acquire().await?;
        let candidates = store::unpaid_bills(
            &mut *conn,
            &q.region_code,
            q.as_of,
            q.after.as_ref(),
            q.page_size,
        )
        .await?;
        let mut bills = Vec::new();
        for key in &candidates {
            let bill = bill(
                &mut conn,
                &key.payer,
                Period::from_date(key.period),
                q.as_of,
            )
            .await?;
            if bill.is_overdue(q.as_of) {
                bills.push(bill);
            }
        }
        let persons: Vec<String> = bills
            .iter()
            .filter_map(|b| b.payer.person())
            .map(|p| p.to_string())
            .collect();
        audit::record_many(
            &mut conn,
            caller,
            "ListArrears",
            Access::Read,
            &persons,
            None,
        )
        .await?;
        Ok(Arrears {
            bills,
            scanned: candidates.len(),
            last: candidates.last().cloned(),
        })
    }
}
