//! Cards presented at a hospital or pharmacy. A check with a card properly
//! presented (its number and its own identification code) is a visit:
//! audited before the answer is given, whether the card's state came from
//! the projection or from card-issuance. A card not properly presented is
//! no visit (see `presentations`).

use platform::{
    audit::{self, Access},
    auth::Caller,
};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use super::{CardRow, LegacyRow, current_card_of_person, legacy_card, regions};
use crate::domain::{Consequence, RegionPolicy};

/// The old card presented at a hospital or pharmacy (audited as a
/// visit: an old card has no identification code) and its holder's usable social security card.
pub async fn legacy_card_visited_by(
    pool: &PgPool,
    caller: &Caller,
    legacy_card_number: &str,
) -> Result<Option<(LegacyRow, Option<CardRow>)>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let Some(old) = legacy_card(&mut *conn, legacy_card_number).await? else {
        return Ok(None);
    };
    let person = old.person_id.to_string();
    audit::record(
        &mut conn,
        caller,
        "CheckEligibility",
        Access::Read,
        &person,
        None,
    )
    .await?;
    let current = current_card_of_person(&mut *conn, old.person_id).await?;
    Ok(Some((old, current)))
}

/// Records a visit of `person_id`'s card by `caller` (the card's state came
/// from card-issuance).
pub async fn record_visit(
    conn: &mut PgConnection,
    caller: &Caller,
    person_id: Uuid,
) -> Result<(), sqlx::Error> {
    let person = person_id.to_string();
    audit::record(
        conn,
        caller,
        "CheckEligibility",
        Access::Read,
        &person,
        None,
    )
    .await?;
    Ok(())
}

/// What activation itself owns about a card whose state came from
/// card-issuance: whether it was activated, and its region's policy.
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub struct LocalFacts {
    pub activated: bool,
    window_months: Option<i32>,
    window_days: Option<i32>,
    consequence: Option<Consequence>,
}

impl LocalFacts {
    /// The region's policy, or `default` where the region has none.
    pub fn policy(&self, default: RegionPolicy) -> RegionPolicy {
        regions::policy_of(self.window_months, self.window_days, self.consequence)
            .unwrap_or(default)
    }
}

pub async fn local_facts(
    executor: impl PgExecutor<'_>,
    card_number: &str,
    region_code: &str,
) -> Result<LocalFacts, sqlx::Error> {
    sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM activations WHERE card_number = $1) AS activated,
             p.window_months, p.window_days, p.consequence
         FROM (SELECT $2::text AS region_code) r
         LEFT JOIN region_policies p ON p.region_code = r.region_code",
    )
    .bind(card_number)
    .bind(region_code)
    .fetch_one(executor)
    .await
}
