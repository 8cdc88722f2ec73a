//! The contribution vocabulary as stored: insurance types, enrolment
//! schemes and channels, ledger parts and accounts. Each is a column of
//! text; a value the service does not know is an error when read, never a
//! silent default.

/// A stored text value that names no variant of the enum it should be.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a known {what}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

/// An enum stored as text: `as_str`, `FromStr` (unknown values refused),
/// `Display`, and `sqlx::Type` as Postgres `text`.
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $name:ident as $what:literal {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, sqlx::Type)]
        #[sqlx(type_name = "text")]
        pub enum $name {
            $($(#[$vmeta])* #[sqlx(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::vocabulary::UnknownValue;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == value)
                    .ok_or_else(|| $crate::domain::vocabulary::UnknownValue {
                        what: $what,
                        value: value.to_owned(),
                    })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use stored_enum;

stored_enum! {
    /// A branch of social insurance.
    InsuranceType as "insurance type" {
        OldAge = "OLD_AGE",
        Medical = "MEDICAL",
        Unemployment = "UNEMPLOYMENT",
        WorkInjury = "WORK_INJURY",
        Maternity = "MATERNITY",
    }
}

stored_enum! {
    /// How a person is enrolled, and so who pays which part.
    Scheme as "scheme" {
        /// Employed: the employer pays its share and the employee's.
        Employee = "EMPLOYEE",
        /// A flexible worker pays both parts themselves.
        Flexible = "FLEXIBLE",
        /// Under an HR agency contract: the agency pays, plus its fee.
        Agency = "AGENCY",
    }
}

stored_enum! {
    /// Where an enrolment was made.
    EnrolmentChannel as "enrolment channel" {
        /// At the bureau's counter, by an operator.
        Counter = "COUNTER",
        /// By an HR agency under its contract.
        Agency = "AGENCY",
        /// By the person, online.
        Online = "ONLINE",
    }
}

stored_enum! {
    /// Where a ledger amount goes.
    Account as "account" {
        PoolingFund = "POOLING_FUND",
        IndividualAccount = "INDIVIDUAL_ACCOUNT",
        ServiceFee = "SERVICE_FEE",
    }
}

stored_enum! {
    /// Which part of a month's contribution a ledger line is.
    Part as "ledger part" {
        /// The employer's share (pooling fund).
        Employer = "EMPLOYER",
        /// The employee's share (individual account).
        Employee = "EMPLOYEE",
        /// A flexible worker's pooling part.
        FlexiblePooling = "FLEXIBLE_POOLING",
        /// A flexible worker's individual-account part.
        FlexibleIndividual = "FLEXIBLE_INDIVIDUAL",
        /// An HR agency's monthly service fee.
        ServiceFee = "SERVICE_FEE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_round_trip_and_unknown_ones_are_refused() {
        for t in InsuranceType::ALL {
            assert_eq!(t.as_str().parse::<InsuranceType>(), Ok(*t));
        }
        assert_eq!(
            "FLEXIBLE_POOLING".parse::<Part>(),
            Ok(Part::FlexiblePooling)
        );
        assert!("SOMETHING".parse::<Scheme>().is_err());
        assert!("".parse::<Account>().is_err());
    }
}
