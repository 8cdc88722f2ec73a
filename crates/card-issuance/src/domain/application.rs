//! Applying for a card: who may apply, with which bank, and the states of
//! an application.

use std::str::FromStr;

use socsec_core::{CallerKind, Registration};

use super::UnknownState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplicationStatus {
    /// Waiting for its card.
    Pending,
    /// Its card was made.
    Issued,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Issued => "ISSUED",
        }
    }

    /// Only a pending application gets a card.
    pub fn ensure_issuable(self) -> Result<(), ApplyRefused> {
        match self {
            Self::Pending => Ok(()),
            Self::Issued => Err(ApplyRefused::AlreadyIssued),
        }
    }
}

impl FromStr for ApplicationStatus {
    type Err = UnknownState;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "PENDING" => Ok(Self::Pending),
            "ISSUED" => Ok(Self::Issued),
            _ => Err(UnknownState {
                kind: "application status",
                value: value.to_owned(),
            }),
        }
    }
}

/// Why an application is refused, or its card not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyRefused {
    /// `BASIC_INFO_NOT_CONFIRMED`.
    #[error("the person's basic information is not confirmed")]
    BasicInfoNotConfirmed,
    /// `BANK_NOT_COOPERATING`: not a bank, or not in force.
    #[error("the partner is not a co-operating bank in force")]
    BankNotCooperating,
    /// `APPLICATION_ALREADY_ISSUED`.
    #[error("the application's card was already issued")]
    AlreadyIssued,
}

/// What identity says of the person applying, read before the transaction.
#[derive(Clone, Debug)]
pub struct Applicant {
    /// Their basic information is confirmed.
    pub confirmed: bool,
    /// The region they are registered in.
    pub region_code: String,
}

impl Applicant {
    /// A card can only be applied for once the basic information is confirmed.
    pub fn ensure_confirmed(&self) -> Result<(), ApplyRefused> {
        if self.confirmed {
            Ok(())
        } else {
            Err(ApplyRefused::BasicInfoNotConfirmed)
        }
    }

    /// The card is issued in the region asked for, else in the person's own.
    pub fn issuing_region<'a>(&'a self, requested: Option<&'a str>) -> &'a str {
        requested.unwrap_or(&self.region_code)
    }
}

/// The card's financial function comes from a bank whose co-operation is in
/// force (`registered`: the partner registry's word on it).
pub fn ensure_cooperating_bank(registered: Option<Registration>) -> Result<(), ApplyRefused> {
    if registered.is_some_and(|r| r.in_force_as(CallerKind::Bank)) {
        Ok(())
    } else {
        Err(ApplyRefused::BankNotCooperating)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bank_in_force_cooperates() {
        let bank = |kind, in_force| Some(Registration { kind, in_force });
        assert_eq!(
            ensure_cooperating_bank(bank(CallerKind::Bank, true)),
            Ok(())
        );
        for refused in [
            bank(CallerKind::Bank, false),
            bank(CallerKind::Hospital, true),
            None,
        ] {
            assert_eq!(
                ensure_cooperating_bank(refused),
                Err(ApplyRefused::BankNotCooperating)
            );
        }
    }

    #[test]
    fn statuses_read_back_and_only_a_pending_application_is_issued() {
        for status in [ApplicationStatus::Pending, ApplicationStatus::Issued] {
            assert_eq!(status.as_str().parse::<ApplicationStatus>(), Ok(status));
        }
        assert!("pending".parse::<ApplicationStatus>().is_err());
        assert_eq!(ApplicationStatus::Pending.ensure_issuable(), Ok(()));
        assert_eq!(
            ApplicationStatus::Issued.ensure_issuable(),
            Err(ApplyRefused::AlreadyIssued)
        );
    }
}
