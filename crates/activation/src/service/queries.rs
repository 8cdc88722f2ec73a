//! Reads: a card's activation, approaching deadlines. Each is audited
//! before it is answered. (Eligibility has a module of its own.)

use chrono::Duration;
use pii::CardNumber;
use platform::auth::{Caller, CallerKind};

use super::{Activations, Result};
use crate::{
    domain::command::ApproachingDeadlines,
    error::ActivationError,
    store::{self, CardRow, DeadlineRow},
};

impl Activations {
    /// A card's activation window. A person sees only their own card's:
    /// anyone else's is not found (and nothing is recorded as read).
    pub async fn card_activation(&self, caller: &Caller, number: CardNumber) -> Result<CardRow> {
        if caller.is(CallerKind::Person) {
            let card = store::card_by_number(&self.pool, &number).await?;
            if card.is_none_or(|card| card.person_id.to_string() != caller.code) {
                return Err(ActivationError::CardNotFound);
            }
        }
        store::card_read_by(&self.pool, caller, "GetCardActivation", &number)
            .await?
            .ok_or(ActivationError::CardNotFound)
    }

    pub async fn approaching_deadlines(
        &self,
        caller: &Caller,
        query: &ApproachingDeadlines,
    ) -> Result<Vec<DeadlineRow>> {
        let now = self.clock.now();
        let rows = store::approaching_deadlines(
            &self.pool,
            now,
            now + Duration::days(i64::from(query.within_days)),
            query.region_code.as_deref(),
            self.settings.default_policy,
            query
                .page
                .after
                .clone()
                .map(|key| (key.deadline, key.card_number)),
            query.page.size,
        )
        .await?;
        let persons: Vec<String> = rows.iter().map(|r| r.person_id.to_string()).collect();
        store::record_reads(&self.pool, caller, "ListApproachingDeadlines", &persons).await?;
        Ok(rows)
    }
}
