//! Eligibility at a visit. The projection answers when it is caught up
//! with card-issuance within the configured bound; otherwise card-issuance
//! is asked directly; if it cannot answer, nothing is
//! (`CARD_STATUS_UNVERIFIED`), never an answer from a stale copy. What
//! activation owns itself (activations, region policies, old cards retired
//! at a pharmacy) is always read here. Each answer says how fresh it is.
//!
//! A card is found only by its number and its own identification code
//! (`presentation`): a wrong or missing code is answered `CARD_UNKNOWN`, as
//! a number that does not exist, with no visit in the holder's trail; the
//! failure is recorded and counted against the caller.

use chrono::{DateTime, Utc};
use pii::{CardIdentificationCode, CardNumber};
use platform::auth::Caller;
use socsec_proto::card::v1 as card;

use super::{Activations, Result, presentation};
use crate::{
    domain::{
        Basis, CardFacts, CodeDigest, LegacyStatus, Reason, Source, Verdict, card_verdict,
        command::EligibilityQuery, legacy_verdict,
    },
    published, store,
};

/// The card eligibility is judged for: an e-card's token stands for its
/// card, exchanged with card-issuance before anything is judged.
enum Shown {
    Card {
        number: CardNumber,
        identification_code: Option<CardIdentificationCode>,
    },
    /// An old medical insurance card (upper-case).
    Legacy(String),
}

impl Activations {
    /// Whether the card presented can be used for settlement now, and how
    /// fresh the card's state behind the answer is. The caller's
    /// designation is checked first (`ensure_designated`).
    pub async fn check_eligibility(
        &self,
        caller: &Caller,
        query: EligibilityQuery,
    ) -> Result<(Verdict, Basis)> {
        let now = self.clock.now();
        let _presenting = self.ensure_may_present(caller).await?;
        let shown = match query {
            EligibilityQuery::Card {
                number,
                identification_code,
            } => Shown::Card {
                number,
                identification_code,
            },
            EligibilityQuery::Legacy(number) => Shown::Legacy(number),
            EligibilityQuery::Ecard(token) => match self.ecard_card(caller, &token, None).await? {
                Some((number, code)) => Shown::Card {
                    number,
                    identification_code: Some(code),
                },
                None => {
                    let basis = Basis {
                        source: Source::CardIssuance,
                        as_of: super::verify::wall_clock(),
                    };
                    return self.not_presented(caller, None, basis).await;
                }
            },
        };
        let fresh = self.fresh_projection().await?;
        match (shown, fresh) {
            (
                Shown::Card {
                    number,
                    identification_code,
                },
                Some(basis),
            ) => {
                // The card and the visit on one connection: one backend
                // answers both statements of the call, as in pgbench.
                let mut conn = self.pool.acquire().await?;
                let card = store::card_by_number(&mut *conn, &number).await?;
                let card = match card {
                    Some(card)
                        if self.card_admitted(caller, &card, identification_code.as_ref()) =>
                    {
                        card
                    }
                    other => {
                        drop(conn);
                        let holder = other.map(|c| c.person_id);
                        return self.not_presented(caller, holder, basis).await;
                    }
                };
                store::record_visit(&mut conn, caller, card.person_id).await?;
                let facts = card.facts(self.settings.default_policy);
                Ok((card_verdict(&facts, now), basis))
            }
            (
                Shown::Card {
                    number,
                    identification_code,
                },
                None,
            ) => {
                self.card_from_source(caller, &number, identification_code, now)
                    .await
            }
            (Shown::Legacy(number), Some(basis)) => {
                let Some((old, current)) =
                    store::legacy_card_visited_by(&self.pool, caller, &number).await?
                else {
                    return Ok((Verdict::refused(Reason::CardUnknown), basis));
                };
                let facts = current.map(|c| c.facts(self.settings.default_policy));
                let retired = old.status == LegacyStatus::Retired;
                Ok((legacy_verdict(retired, facts.as_ref(), now), basis))
            }
            (Shown::Legacy(number), None) => self.legacy_from_source(caller, &number, now).await,
        }
    }

    /// A social security card's eligibility with its state as
    /// card-issuance has it now.
    async fn card_from_source(
        &self,
        caller: &Caller,
        number: &CardNumber,
        identification_code: Option<CardIdentificationCode>,
        now: DateTime<Utc>,
    ) -> Result<(Verdict, Basis)> {
        let (card, basis) = self
            .card_from_card_issuance(caller, number.as_str())
            .await?;
        let Some(card) = card else {
            return self.not_presented(caller, None, basis).await;
        };
        let holder = published::person(&card.person_id)?;
        // A code card-issuance published that does not parse admits nothing.
        let admitted =
            CardIdentificationCode::parse(&card.card_identification_code).is_ok_and(|own| {
                let stored = CodeDigest::of(number, &own);
                presentation::admitted(caller, &stored, number, identification_code.as_ref())
            });
        if !admitted {
            return self.not_presented(caller, Some(holder), basis).await;
        }
        store::record_visit(&mut *self.pool.acquire().await?, caller, holder).await?;
        let facts = self.facts_of(&card).await?;
        Ok((card_verdict(&facts, now), basis))
    }

    /// An old card's eligibility with its state and its holder's cards as
    /// card-issuance has them now (and retired if this service retired it).
    async fn legacy_from_source(
        &self,
        caller: &Caller,
        number: &str,
        now: DateTime<Utc>,
    ) -> Result<(Verdict, Basis)> {
        let basis = Basis {
            source: Source::CardIssuance,
            as_of: super::verify::wall_clock(),
        };
        let Some(old) = self.directory.legacy_card(number, caller).await? else {
            return Ok((Verdict::refused(Reason::CardUnknown), basis));
        };
        let person_id = published::person(&old.person_id)?;
        let cards = self.directory.person_cards(&old.person_id, caller).await?;
        store::record_visit(&mut *self.pool.acquire().await?, caller, person_id).await?;
        // The pharmacy channel retires an old card here at once and tells
        // card-issuance later.
        let retired_here = store::legacy_card(&self.pool, number)
            .await?
            .is_some_and(|l| l.status == LegacyStatus::Retired);
        if retired_here || published::legacy_status(old.status) == LegacyStatus::Retired {
            return Ok((legacy_verdict(true, None, now), basis));
        }
        // The holder's usable card, the latest received first (as the
        // projection picks it).
        let current = cards
            .iter()
            .filter(|c| published::card_state(c.status).is_usable())
            .max_by_key(|c| published::to_utc(c.received_at));
        let facts = match current {
            Some(card) => Some(self.facts_of(card).await?),
            None => None,
        };
        Ok((legacy_verdict(false, facts.as_ref(), now), basis))
    }

    /// Whether the projected `card` is presented by `code` (see
    /// `presentation::admitted`).
    fn card_admitted(
        &self,
        caller: &Caller,
        card: &store::CardRow,
        code: Option<&CardIdentificationCode>,
    ) -> bool {
        let stored = CodeDigest(card.identification_code_sha256.clone());
        presentation::admitted(caller, &stored, &card.card_number, code)
    }

    /// The answer to a social security card not presented (no card with
    /// this number and code): `CARD_UNKNOWN`, the same whichever it was;
    /// the failure recorded (no visit) and counted. (An old medical
    /// insurance card has no code: its number is all it presents, and an
    /// unknown one is not counted.)
    async fn not_presented(
        &self,
        caller: &Caller,
        holder: Option<uuid::Uuid>,
        basis: Basis,
    ) -> Result<(Verdict, Basis)> {
        self.failed_presentation(caller, "CheckEligibility", holder, None)
            .await?;
        Ok((Verdict::refused(Reason::CardUnknown), basis))
    }

    /// A card as card-issuance published it, with what activation owns of
    /// it (its activation, its region's policy).
    async fn facts_of(&self, card: &card::Card) -> Result<CardFacts> {
        let local =
            store::local_facts(&self.pool, &card.card_number, &card.issuing_region_code).await?;
        Ok(CardFacts {
            state: published::card_state(card.status),
            received_at: published::to_utc(card.received_at),
            activated: local.activated,
            policy: local.policy(self.settings.default_policy),
        })
    }
}
