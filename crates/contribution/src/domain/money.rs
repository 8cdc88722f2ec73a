//! Rounding exact amounts to what is charged, by a region's rule.

/// How a region rounds an amount to what is charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Half up to the fen (the default).
    HalfUpFen,
    /// Up to the jiao (10 fen).
    UpJiao,
}

impl Rounding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HalfUpFen => "HALF_UP_FEN",
            Self::UpJiao => "UP_JIAO",
        }
    }

    pub fn from_db(value: &str) -> Self {
        if value == "UP_JIAO" {
            Self::UpJiao
        } else {
            Self::HalfUpFen
        }
    }

    /// Rounds the non-negative amount `numerator / denominator` fen.
    /// (The monthly run does the same in SQL: `round_fen`, tested to agree.)
    pub fn apply(self, numerator: i128, denominator: i128) -> i64 {
        debug_assert!(numerator >= 0 && denominator > 0);
        let fen = match self {
            Self::HalfUpFen => (2 * numerator + denominator) / (2 * denominator),
            Self::UpJiao => {
                let jiao = 10 * denominator;
                (numerator + jiao - 1) / jiao * 10
            }
        };
        i64::try_from(fen).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn worked_examples() {
        // 8% of 7,162.20 yuan = 572.976 yuan.
        assert_eq!(Rounding::HalfUpFen.apply(716_220 * 800, 10_000), 57_298);
        assert_eq!(Rounding::UpJiao.apply(716_220 * 800, 10_000), 57_300);
        // Exactly half a fen rounds up.
        assert_eq!(Rounding::HalfUpFen.apply(5, 10), 1);
        // Already whole jiao stays.
        assert_eq!(Rounding::UpJiao.apply(57_300, 1), 57_300);
    }

    proptest! {
        #[test]
        fn half_up_is_within_half_a_fen(numerator in 0i128..1_000_000_000_000, denominator in 1i128..100_000) {
            let fen = i128::from(Rounding::HalfUpFen.apply(numerator, denominator));
            // |fen - n/d| <= 1/2, and exactly half goes up.
            prop_assert!(2 * (fen * denominator - numerator).abs() <= denominator);
            prop_assert!(2 * (numerator - fen * denominator) < denominator);
        }

        #[test]
        fn up_to_the_jiao_never_undercharges(numerator in 0i128..1_000_000_000_000, denominator in 1i128..100_000) {
            let fen = i128::from(Rounding::UpJiao.apply(numerator, denominator));
            prop_assert_eq!(fen % 10, 0);
            prop_assert!(fen * denominator >= numerator);
            prop_assert!((fen - 10) * denominator < numerator);
        }
    }
}
