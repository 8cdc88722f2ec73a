//! Reads: eligibility at a visit, a card's activation, approaching
//! deadlines. Each is audited before it is answered.

use chrono::Duration;
use pii::CardNumber;
use platform::auth::Caller;

use super::{Activations, Result};
use crate::{
    domain::{
        LegacyStatus, Reason, Verdict, card_verdict,
        command::{ApproachingDeadlines, EligibilityQuery},
        legacy_verdict,
    },
    error::ActivationError,
    store::{self, CardRow, DeadlineRow},
};

impl Activations {
    /// Whether the card presented can be used for settlement now. The
    /// caller's designation is checked first (`ensure_designated`).
    pub async fn check_eligibility(
        &self,
        caller: &Caller,
        query: EligibilityQuery,
    ) -> Result<Verdict> {
        let now = self.clock.now();
        match query {
            EligibilityQuery::Card {
                number,
                identification_code,
            } => {
                let Some(card) = store::card_visited_by(&self.pool, caller, &number).await? else {
                    return Ok(Verdict::refused(Reason::CardUnknown));
                };
                if identification_code.is_some_and(|code| code != card.card_identification_code) {
                    return Ok(Verdict::refused(Reason::CardIdentificationMismatch));
                }
                Ok(card_verdict(&card.facts(self.default_policy), now))
            }
            EligibilityQuery::Legacy(number) => {
                let Some((old, current)) =
                    store::legacy_card_visited_by(&self.pool, caller, &number).await?
                else {
                    return Ok(Verdict::refused(Reason::CardUnknown));
                };
                let facts = current.map(|c| c.facts(self.default_policy));
                Ok(legacy_verdict(
                    old.status == LegacyStatus::Retired,
                    facts.as_ref(),
                    now,
                ))
            }
        }
    }

    pub async fn card_activation(&self, caller: &Caller, number: CardNumber) -> Result<CardRow> {
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
            self.default_policy,
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
