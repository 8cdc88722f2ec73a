//! Region policies and the deadlines they give.

use chrono::{DateTime, Utc};
use pii::CardNumber;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::{Consequence, RegionPolicy, Window};

/// The policy a `region_policies` row holds; `None` where there is no row.
pub(super) fn policy_of(
    months: Option<i32>,
    days: Option<i32>,
    consequence: Option<Consequence>,
) -> Option<RegionPolicy> {
    let window = match (months, days) {
        (Some(m), _) => Window::Months(m as u32),
        (None, Some(d)) => Window::Days(d as u32),
        _ => return None,
    };
    Some(RegionPolicy {
        window,
        consequence: consequence?,
    })
}

fn window_columns(window: Window) -> (Option<i32>, Option<i32>) {
    match window {
        Window::Months(m) => (Some(m as i32), None),
        Window::Days(d) => (None, Some(d as i32)),
    }
}

pub async fn set_region_policy(
    conn: &mut PgConnection,
    region_code: &str,
    policy: &RegionPolicy,
) -> Result<(), sqlx::Error> {
    let (months, days) = window_columns(policy.window);
    sqlx::query(
        "INSERT INTO region_policies (region_code, window_months, window_days, consequence)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (region_code) DO UPDATE SET window_months = $2, window_days = $3,
             consequence = $4",
    )
    .bind(region_code)
    .bind(months)
    .bind(days)
    .bind(policy.consequence)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn region_policy(
    executor: impl PgExecutor<'_>,
    region_code: &str,
) -> Result<Option<RegionPolicy>, sqlx::Error> {
    let row: Option<(Option<i32>, Option<i32>, Consequence)> = sqlx::query_as(
        "SELECT window_months, window_days, consequence FROM region_policies WHERE region_code = $1",
    )
    .bind(region_code)
    .fetch_optional(executor)
    .await?;
    Ok(row.and_then(|(m, d, c)| policy_of(m, d, Some(c))))
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeadlineRow {
    pub card_number: CardNumber,
    pub person_id: Uuid,
    pub received_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
}

/// Received, unactivated cards whose deadline falls in `[now, until)`,
/// soonest first, after the page key `(deadline, card_number)`.
#[allow(clippy::too_many_arguments)]
pub async fn approaching_deadlines(
    executor: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    region: Option<&str>,
    default: RegionPolicy,
    after: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> Result<Vec<DeadlineRow>, sqlx::Error> {
    let (default_months, default_days) = window_columns(default.window);
    let (after_deadline, after_card) = after.unzip();
    sqlx::query_as(
        "SELECT * FROM (
             SELECT c.card_number, c.person_id, c.received_at,
                 activation_deadline(c.received_at,
                     CASE WHEN p.region_code IS NULL THEN $4 ELSE p.window_months END,
                     CASE WHEN p.region_code IS NULL THEN $5 ELSE p.window_days END) AS deadline
             FROM cards c
             LEFT JOIN activations a ON a.card_number = c.card_number
             LEFT JOIN region_policies p ON p.region_code = c.issuing_region_code
             WHERE c.status = 'RECEIVED' AND a.card_number IS NULL
               AND ($3::text IS NULL OR c.issuing_region_code = $3)
         ) d
         WHERE d.deadline >= $1 AND d.deadline < $2
           AND ($6::timestamptz IS NULL OR (d.deadline, d.card_number) > ($6, $7))
         ORDER BY d.deadline, d.card_number
         LIMIT $8",
    )
    .bind(now)
    .bind(until)
    .bind(region)
    .bind(default_months)
    .bind(default_days)
    .bind(after_deadline)
    .bind(after_card)
    .bind(limit)
    .fetch_all(executor)
    .await
}
