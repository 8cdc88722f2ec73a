//! A region's contribution rates for one insurance type and year, as data.

use super::{InsuranceType, Money, Rounding};

/// One version of a rate table. Rates are basis points (1/100 %).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateTable {
    pub region_code: String,
    pub insurance_type: InsuranceType,
    pub year: i32,
    /// 1, 2, … in the order set; 0 in a table not stored yet.
    pub version: i32,
    pub employer_rate_bp: i32,
    pub employee_rate_bp: i32,
    pub flexible_rate_bp: i32,
    /// The part of the flexible rate that goes to the individual account.
    pub flexible_individual_rate_bp: i32,
    pub average_monthly_wage: Money,
    /// The contribution base is the declared wage clamped to these
    /// percentages of the average wage.
    pub base_floor_percent: i32,
    pub base_ceiling_percent: i32,
    pub rounding: Rounding,
    pub due_day_of_next_month: i32,
}

/// The base limits when a table gives none (60 % to 300 %, typical).
pub const DEFAULT_BASE_LIMITS: (i32, i32) = (60, 300);
