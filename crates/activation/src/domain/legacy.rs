//! Old medical insurance cards: the pharmacy channel exchanges one for the
//! new card and retires it.

use uuid::Uuid;

use super::{Refusal, text_enum};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegacyStatus {
    Active,
    Retired,
}

text_enum!(LegacyStatus, "old medical insurance card status" {
    Active => "ACTIVE",
    Retired => "RETIRED",
});

/// The old card presented with a new one must be the same person's.
pub fn ensure_same_person(legacy_holder: Uuid, card_holder: Uuid) -> Result<(), Refusal> {
    if legacy_holder == card_holder {
        Ok(())
    } else {
        Err(Refusal::LegacyCardOfAnotherPerson)
    }
}

/// An old card is retired once.
pub fn ensure_retirable(status: LegacyStatus) -> Result<(), Refusal> {
    match status {
        LegacyStatus::Active => Ok(()),
        LegacyStatus::Retired => Err(Refusal::LegacyCardRetired),
    }
}
