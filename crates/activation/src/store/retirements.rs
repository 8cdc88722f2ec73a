//! Old cards the pharmacy channel retired that card-issuance has not yet
//! acknowledged (the relay's queue).

use pii::CardNumber;
use sqlx::PgExecutor;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PendingRetirement {
    pub legacy_card_number: String,
    pub card_number: CardNumber,
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
