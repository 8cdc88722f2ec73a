//! Money: exact integer fen, and rounding exact amounts to what is charged
//! by a region's rule.

use std::{
    fmt,
    iter::Sum,
    ops::{Add, AddAssign, Neg, Sub},
};

use super::vocabulary::stored_enum;

/// An amount of money in fen (1/100 yuan), exact. Signed: a ledger
/// adjustment can take back part of what was booked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Self = Self(0);

    pub const fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl Add for Money {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self(self.0 + other.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, other: Self) {
        self.0 += other.0;
    }
}

impl Sub for Money {
    type Output = Self;

    fn sub(self, other: Self) -> Self {
        Self(self.0 - other.0)
    }
}

impl Neg for Money {
    type Output = Self;

    fn neg(self) -> Self {
        Self(-self.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Self {
        iter.copied().sum()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} fen", self.0)
    }
}

stored_enum! {
    /// How a region rounds an amount to what is charged.
    Rounding as "rounding" {
        /// Half up to the fen (the default).
        HalfUpFen = "HALF_UP_FEN",
        /// Up to the jiao (10 fen).
        UpJiao = "UP_JIAO",
    }
}

impl Rounding {
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
