//! All of activation's SQL.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::{CardFacts, CardState, Consequence, RegionPolicy, Window};

/// A card as projected here, with its activation and its region's policy.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CardRow {
    pub card_number: String,
    pub card_identification_code: String,
    pub serial_number: String,
    pub person_id: Uuid,
    pub bank_code: String,
    pub bank_card_number: String,
    pub issuing_region_code: String,
    pub status: String,
    pub received_at: Option<DateTime<Utc>>,
    pub channel: Option<String>,
    pub partner_code: Option<String>,
    pub operator_id: Option<String>,
    pub activated_at: Option<DateTime<Utc>>,
    pub retired_legacy_card_number: Option<String>,
    pub window_months: Option<i32>,
    pub window_days: Option<i32>,
    pub consequence: Option<String>,
}

impl CardRow {
    pub fn state(&self) -> CardState {
        CardState::from_db(&self.status)
    }

    /// The region's policy, or `default` where the region has none.
    pub fn policy(&self, default: RegionPolicy) -> RegionPolicy {
        policy_of(
            self.window_months,
            self.window_days,
            self.consequence.as_deref(),
        )
        .unwrap_or(default)
    }

    pub fn facts(&self, default: RegionPolicy) -> CardFacts {
        CardFacts {
            state: self.state(),
            received_at: self.received_at,
            activated: self.activated_at.is_some(),
            policy: self.policy(default),
        }
    }
}

fn policy_of(
    months: Option<i32>,
    days: Option<i32>,
    consequence: Option<&str>,
) -> Option<RegionPolicy> {
    let window = match (months, days) {
        (Some(m), _) => Window::Months(m as u32),
        (None, Some(d)) => Window::Days(d as u32),
        _ => return None,
    };
    Some(RegionPolicy {
        window,
        consequence: Consequence::from_db(consequence?),
    })
}

macro_rules! card_select {
    ($where:literal) => {
        concat!(
            "SELECT c.card_number, c.card_identification_code, c.serial_number, c.person_id,
                 c.bank_code, c.bank_card_number, c.issuing_region_code, c.status, c.received_at,
                 a.channel, a.partner_code, a.operator_id, a.activated_at,
                 a.retired_legacy_card_number, p.window_months, p.window_days, p.consequence
             FROM cards c
             LEFT JOIN activations a ON a.card_number = c.card_number
             LEFT JOIN region_policies p ON p.region_code = c.issuing_region_code
             WHERE ",
            $where
        )
    };
}

pub async fn card_by_number(
    executor: impl PgExecutor<'_>,
    card_number: &str,
) -> Result<Option<CardRow>, sqlx::Error> {
    sqlx::query_as(card_select!("c.card_number = $1"))
        .bind(card_number)
        .fetch_optional(executor)
        .await
}

/// Locks the card's projection row: activations of one card are serialised.
pub async fn lock_card_by_number(
    conn: &mut PgConnection,
    card_number: &str,
) -> Result<Option<CardRow>, sqlx::Error> {
    sqlx::query_as(card_select!("c.card_number = $1 FOR UPDATE OF c"))
        .bind(card_number)
        .fetch_optional(conn)
        .await
}

pub async fn lock_card_by_serial(
    conn: &mut PgConnection,
    serial_number: &str,
) -> Result<Option<CardRow>, sqlx::Error> {
    sqlx::query_as(card_select!("c.serial_number = $1 FOR UPDATE OF c"))
        .bind(serial_number)
        .fetch_optional(conn)
        .await
}

/// The person's card that can still be used, if any.
pub async fn current_card_of_person(
    executor: impl PgExecutor<'_>,
    person_id: Uuid,
) -> Result<Option<CardRow>, sqlx::Error> {
    sqlx::query_as(card_select!(
        "c.person_id = $1 AND c.status IN ('ISSUED', 'RECEIVED')
         ORDER BY c.received_at DESC NULLS LAST LIMIT 1"
    ))
    .bind(person_id)
    .fetch_optional(executor)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LegacyRow {
    pub card_number: String,
    pub person_id: Uuid,
    pub status: String,
}

pub async fn legacy_card(
    executor: impl PgExecutor<'_>,
    card_number: &str,
) -> Result<Option<LegacyRow>, sqlx::Error> {
    sqlx::query_as("SELECT card_number, person_id, status FROM legacy_cards WHERE card_number = $1")
        .bind(card_number)
        .fetch_optional(executor)
        .await
}

pub async fn lock_legacy_card(
    conn: &mut PgConnection,
    card_number: &str,
) -> Result<Option<LegacyRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT card_number, person_id, status FROM legacy_cards WHERE card_number = $1 FOR UPDATE",
    )
    .bind(card_number)
    .fetch_optional(conn)
    .await
}

pub struct NewActivation<'a> {
    pub card_number: &'a str,
    pub person_id: Uuid,
    pub channel: &'a str,
    pub partner_code: &'a str,
    pub operator_id: &'a str,
    pub at: DateTime<Utc>,
    pub request_id: &'a str,
    pub retired_legacy_card_number: Option<&'a str>,
}

/// Records the activation unless the card already has one; `false` if it had.
pub async fn insert_activation(
    conn: &mut PgConnection,
    new: &NewActivation<'_>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO activations (card_number, person_id, channel, partner_code, operator_id,
             activated_at, request_id, retired_legacy_card_number)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (card_number) DO NOTHING",
    )
    .bind(new.card_number)
    .bind(new.person_id)
    .bind(new.channel)
    .bind(new.partner_code)
    .bind(new.operator_id)
    .bind(new.at)
    .bind(new.request_id)
    .bind(new.retired_legacy_card_number)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Retires the old card here at once and queues telling card-issuance.
pub async fn retire_legacy_card(
    conn: &mut PgConnection,
    legacy_card_number: &str,
    card_number: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE legacy_cards SET status = 'RETIRED' WHERE card_number = $1")
        .bind(legacy_card_number)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO legacy_retirements (legacy_card_number, card_number) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
    )
    .bind(legacy_card_number)
    .bind(card_number)
    .execute(conn)
    .await?;
    Ok(())
}

// ---- retirements relay ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PendingRetirement {
    pub legacy_card_number: String,
    pub card_number: String,
}

pub async fn pending_retirements(
    executor: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<PendingRetirement>, sqlx::Error> {
    sqlx::query_as(
        "SELECT legacy_card_number, card_number FROM legacy_retirements
         ORDER BY created_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(executor)
    .await
}

pub async fn retirement_delivered(
    executor: impl PgExecutor<'_>,
    legacy_card_number: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM legacy_retirements WHERE legacy_card_number = $1")
        .bind(legacy_card_number)
        .execute(executor)
        .await?;
    Ok(())
}

pub async fn retirement_failed(
    executor: impl PgExecutor<'_>,
    legacy_card_number: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE legacy_retirements SET attempts = attempts + 1 WHERE legacy_card_number = $1",
    )
    .bind(legacy_card_number)
    .execute(executor)
    .await?;
    Ok(())
}

// ---- partners ----

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PartnerRow {
    pub code: String,
    pub kind: String,
    pub parent_code: Option<String>,
    pub designation_in_force: bool,
}

pub async fn all_partners(executor: impl PgExecutor<'_>) -> Result<Vec<PartnerRow>, sqlx::Error> {
    sqlx::query_as("SELECT code, kind, parent_code, designation_in_force FROM partners")
        .fetch_all(executor)
        .await
}

pub async fn upsert_partner(
    conn: &mut PgConnection,
    partner: &PartnerRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO partners (code, kind, parent_code, designation_in_force) VALUES ($1, $2, $3, $4)
         ON CONFLICT (code) DO UPDATE SET kind = $2, parent_code = $3, designation_in_force = $4",
    )
    .bind(&partner.code)
    .bind(&partner.kind)
    .bind(&partner.parent_code)
    .bind(partner.designation_in_force)
    .execute(conn)
    .await?;
    Ok(())
}

// ---- projection ----

pub async fn cursor(executor: impl PgExecutor<'_>, stream: &str) -> Result<String, sqlx::Error> {
    let cursor: Option<String> =
        sqlx::query_scalar("SELECT cursor FROM projection_cursors WHERE stream = $1")
            .bind(stream)
            .fetch_optional(executor)
            .await?;
    Ok(cursor.unwrap_or_default())
}

pub async fn save_cursor(
    conn: &mut PgConnection,
    stream: &str,
    cursor: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projection_cursors (stream, cursor) VALUES ($1, $2)
         ON CONFLICT (stream) DO UPDATE SET cursor = $2, updated_at = now()",
    )
    .bind(stream)
    .bind(cursor)
    .execute(conn)
    .await?;
    Ok(())
}

pub struct ProjectedCard<'a> {
    pub card_number: &'a str,
    pub card_identification_code: &'a str,
    pub serial_number: &'a str,
    pub person_id: Uuid,
    pub bank_code: &'a str,
    pub bank_card_number: &'a str,
    pub issuing_region_code: &'a str,
    pub status: &'a str,
    pub received_at: Option<DateTime<Utc>>,
}

pub async fn upsert_card(
    conn: &mut PgConnection,
    card: &ProjectedCard<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO cards (card_number, card_identification_code, serial_number, person_id,
             bank_code, bank_card_number, issuing_region_code, status, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (card_number) DO UPDATE SET status = $8, received_at = $9",
    )
    .bind(card.card_number)
    .bind(card.card_identification_code)
    .bind(card.serial_number)
    .bind(card.person_id)
    .bind(card.bank_code)
    .bind(card.bank_card_number)
    .bind(card.issuing_region_code)
    .bind(card.status)
    .bind(card.received_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_card_status(
    conn: &mut PgConnection,
    card_number: &str,
    status: &str,
    received_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE cards SET status = $2, received_at = COALESCE($3, received_at) WHERE card_number = $1",
    )
    .bind(card_number)
    .bind(status)
    .bind(received_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn upsert_legacy_card(
    conn: &mut PgConnection,
    card_number: &str,
    person_id: Uuid,
    status: &str,
) -> Result<(), sqlx::Error> {
    // A retirement this service made stays, whatever order events come in.
    sqlx::query(
        "INSERT INTO legacy_cards (card_number, person_id, status) VALUES ($1, $2, $3)
         ON CONFLICT (card_number) DO UPDATE SET status =
             CASE WHEN legacy_cards.status = 'RETIRED' THEN 'RETIRED' ELSE $3 END",
    )
    .bind(card_number)
    .bind(person_id)
    .bind(status)
    .execute(conn)
    .await?;
    Ok(())
}

// ---- region policies ----

pub async fn set_region_policy(
    conn: &mut PgConnection,
    region_code: &str,
    policy: &RegionPolicy,
) -> Result<(), sqlx::Error> {
    let (months, days) = match policy.window {
        Window::Months(m) => (Some(m as i32), None),
        Window::Days(d) => (None, Some(d as i32)),
    };
    sqlx::query(
        "INSERT INTO region_policies (region_code, window_months, window_days, consequence)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (region_code) DO UPDATE SET window_months = $2, window_days = $3,
             consequence = $4",
    )
    .bind(region_code)
    .bind(months)
    .bind(days)
    .bind(policy.consequence.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn region_policy(
    executor: impl PgExecutor<'_>,
    region_code: &str,
) -> Result<Option<RegionPolicy>, sqlx::Error> {
    let row: Option<(Option<i32>, Option<i32>, String)> = sqlx::query_as(
        "SELECT window_months, window_days, consequence FROM region_policies WHERE region_code = $1",
    )
    .bind(region_code)
    .fetch_optional(executor)
    .await?;
    Ok(row.and_then(|(m, d, c)| policy_of(m, d, Some(&c))))
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeadlineRow {
    pub card_number: String,
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
    let (default_months, default_days) = match default.window {
        Window::Months(m) => (Some(m as i32), None),
        Window::Days(d) => (None, Some(d as i32)),
    };
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
