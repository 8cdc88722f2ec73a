//! What makes an imported card's history hang together: its dates against
//! its status, and an activation the old system recorded. The identifiers
//! themselves are parsed by the same `pii` parsers as every RPC's.

use chrono::{DateTime, NaiveDate, Utc};

use super::CardStatus;

/// The channels activation knows, by the names it stores.
pub const ACTIVATION_CHANNELS: [&str; 5] = [
    "BANK_OUTLET",
    "HOSPITAL",
    "PHARMACY",
    "FINANCIAL_FUNCTION",
    "HOTLINE",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedActivation {
    pub channel: &'static str,
    pub at: DateTime<Utc>,
}

/// The activation channel named `name`, if activation knows it.
pub fn activation_channel(name: &str) -> Option<&'static str> {
    ACTIVATION_CHANNELS.iter().copied().find(|c| *c == name)
}

/// A card's history as imported: issued on `issued_on`, received at
/// `received_at` (required once the card left the bureau: every status but
/// ISSUED), activated at the activation's instant (only after receipt),
/// nothing in the future. `Err((field, reason))` names the first break.
pub fn check_history(
    status: CardStatus,
    issued_on: NaiveDate,
    received_at: Option<DateTime<Utc>>,
    activation: Option<&ImportedActivation>,
    now: DateTime<Utc>,
) -> Result<(), (&'static str, &'static str)> {
    let today = socsec_core::time::china_date(now);
    if issued_on > today {
        return Err(("issued_on", "ISSUED_ON_IN_FUTURE"));
    }
    match (status, received_at) {
        (CardStatus::Issued, Some(_)) => return Err(("received_at", "RECEIVED_AT_NOT_ALLOWED")),
        (CardStatus::Issued, None) => {}
        (_, None) => return Err(("received_at", "RECEIVED_AT_REQUIRED")),
        (_, Some(at)) if at > now => return Err(("received_at", "RECEIVED_AT_IN_FUTURE")),
        (_, Some(at)) if socsec_core::time::china_date(at) < issued_on => {
            return Err(("received_at", "RECEIVED_BEFORE_ISSUED"));
        }
        _ => {}
    }
    if let Some(activation) = activation {
        match received_at {
            None => return Err(("activation", "ACTIVATION_BEFORE_RECEIPT")),
            Some(received) if activation.at < received => {
                return Err(("activation.activated_at", "ACTIVATION_BEFORE_RECEIPT"));
            }
            _ if activation.at > now => {
                return Err(("activation.activated_at", "ACTIVATED_AT_IN_FUTURE"));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 4, 0, 0).unwrap()
    }

    #[test]
    fn a_received_card_needs_its_receipt_after_issue_and_not_in_the_future() {
        let now = at(2026, 6, 1);
        let issued = NaiveDate::from_ymd_opt(2025, 1, 10).unwrap();
        let check = |s, r| check_history(s, issued, r, None, now);
        assert_eq!(check(CardStatus::Received, Some(at(2025, 2, 1))), Ok(()));
        assert_eq!(check(CardStatus::Issued, None), Ok(()));
        assert_eq!(
            check(CardStatus::Received, None),
            Err(("received_at", "RECEIVED_AT_REQUIRED"))
        );
        assert_eq!(
            check(CardStatus::Received, Some(at(2024, 12, 1))),
            Err(("received_at", "RECEIVED_BEFORE_ISSUED"))
        );
        assert_eq!(
            check(CardStatus::Lost, Some(at(2027, 1, 1))),
            Err(("received_at", "RECEIVED_AT_IN_FUTURE"))
        );
        assert_eq!(
            check(CardStatus::Issued, Some(at(2025, 2, 1))),
            Err(("received_at", "RECEIVED_AT_NOT_ALLOWED"))
        );
    }

    #[test]
    fn an_imported_activation_follows_the_receipt() {
        let now = at(2026, 6, 1);
        let issued = NaiveDate::from_ymd_opt(2025, 1, 10).unwrap();
        let activation = |t| ImportedActivation {
            channel: "HOSPITAL",
            at: t,
        };
        let received = Some(at(2025, 2, 1));
        assert_eq!(
            check_history(
                CardStatus::Received,
                issued,
                received,
                Some(&activation(at(2025, 3, 1))),
                now
            ),
            Ok(())
        );
        assert_eq!(
            check_history(
                CardStatus::Received,
                issued,
                received,
                Some(&activation(at(2025, 1, 20))),
                now
            ),
            Err(("activation.activated_at", "ACTIVATION_BEFORE_RECEIPT"))
        );
        assert_eq!(activation_channel("TELEPATHY"), None);
    }
}
