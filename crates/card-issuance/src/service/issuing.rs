//! Making cards inside a request's transaction: one or a thousand at a time,
//! in a constant number of statements.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

use super::Result;
use crate::{
    domain::{
        CardOrder, Generation, NumberingSpec,
        issuing::{CardIdentifiers, NumberingError},
    },
    error::CardError,
    store::{self, CardConflict, NewCard},
};

/// How the cards of one request are made.
pub(super) struct Issuing<'a> {
    pub numbering: &'a NumberingSpec,
    pub generation: Generation,
    /// Who asked, as the card's history records it.
    pub by: &'a str,
    pub request_id: &'a str,
    pub at: DateTime<Utc>,
    pub today: NaiveDate,
}

impl Issuing<'_> {
    /// Allocates identifiers for `orders` and inserts their cards.
    pub async fn issue(
        &self,
        conn: &mut PgConnection,
        orders: Vec<CardOrder>,
    ) -> Result<Vec<NewCard>> {
        let allocated = store::allocate(conn, orders.len() as i64).await?;
        let cards = orders
            .into_iter()
            .zip(allocated)
            .map(|(order, allocated)| {
                let ids = CardIdentifiers::make(order.region.as_str(), self.numbering, allocated)
                    .map_err(|e| match e {
                    NumberingError::Exhausted => CardError::NumbersExhausted,
                    NumberingError::Invalid(e) => {
                        tracing::error!(error = %e, "generated an invalid card identifier");
                        CardError::NumbersExhausted
                    }
                })?;
                Ok(NewCard {
                    order,
                    ids,
                    generation: self.generation,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        store::insert_cards(conn, &cards, self.at, self.today, self.by, self.request_id)
            .await?
            .map_err(|conflict| match conflict {
                CardConflict::BankCardNumberTaken => CardError::BankCardNumberInUse,
                CardConflict::PersonHoldsUsableCard => CardError::PersonAlreadyHasCard,
            })?;
        Ok(cards)
    }
}
