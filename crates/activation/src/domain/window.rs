//! The activation window: how long after receipt a card may be activated
//! before the consequence applies. Per region, as data.

use chrono::{DateTime, Duration, Months, Utc};
use socsec_core::time::china;

use super::text_enum;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Calendar months, counted in China Standard Time (a card received on
    /// 31 August has until the end of 28/29 February).
    Months(u32),
    Days(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consequence {
    /// The holder's old medical insurance card cannot be used for settlement.
    RestrictLegacyCard,
    None,
}

text_enum!(Consequence, "deadline consequence" {
    RestrictLegacyCard => "RESTRICT_LEGACY_CARD",
    None => "NONE",
});

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionPolicy {
    pub window: Window,
    pub consequence: Consequence,
}

impl RegionPolicy {
    /// The default: six calendar months, then the old card is restricted.
    pub const DEFAULT: RegionPolicy = RegionPolicy {
        window: Window::Months(6),
        consequence: Consequence::RestrictLegacyCard,
    };

    /// The instant from which a card received at `received_at` and not yet
    /// activated is past its window.
    pub fn deadline(&self, received_at: DateTime<Utc>) -> DateTime<Utc> {
        match self.window {
            Window::Days(days) => received_at + Duration::days(i64::from(days)),
            Window::Months(months) => received_at
                .with_timezone(&china())
                .checked_add_months(Months::new(months))
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn six_calendar_months_in_china_time() {
        // 2026-05-31 10:00 in Beijing.
        let received = Utc.with_ymd_and_hms(2026, 5, 31, 2, 0, 0).unwrap();
        let deadline = RegionPolicy::DEFAULT.deadline(received);
        // 2026-11-30 10:00 in Beijing: November has no 31st.
        assert_eq!(
            deadline,
            Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap()
        );
    }

    #[test]
    fn a_window_in_days() {
        let policy = RegionPolicy {
            window: Window::Days(300),
            consequence: Consequence::RestrictLegacyCard,
        };
        let received = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(policy.deadline(received), received + Duration::days(300));
    }
}
