//! What callers ask for, parsed: every value here is valid. (The request
//! id travels beside the command, for the pipeline.)

use chrono::NaiveDate;
use pii::PartnerCode;
use uuid::Uuid;

use super::{ArrearsKey, Enrolling, InsuranceType, LineKey, Money, Payer, Period, enrolment::Term};

/// Enrol a person in one or more insurance types from a month on.
#[derive(Clone, Debug)]
pub struct Enrol {
    pub person_id: Uuid,
    pub region_code: String,
    /// Each named once.
    pub insurance_types: Vec<InsuranceType>,
    pub enrolling: Enrolling,
    pub start: Period,
}

/// Register an HR agency's contract with a person.
#[derive(Clone, Debug)]
pub struct RegisterContract {
    pub agency: PartnerCode,
    pub person_id: Uuid,
    pub monthly_service_fee: Money,
    pub start: Period,
    /// At most `MAX_CONTRACT_MONTHS` from the start.
    pub end: Period,
}

/// End an agency contract early, its last month `end` (`None`: as early as
/// the months already billed allow).
#[derive(Clone, Debug)]
pub struct EndContract {
    pub contract_id: Uuid,
    pub end: Option<Period>,
}

/// A page of a person's agency contracts.
#[derive(Clone, Debug)]
pub struct ContractsQuery {
    pub person_id: Uuid,
    pub page_size: i64,
    pub after: Option<Uuid>,
}

/// Declare a person's monthly wage for one month or every month of a year.
#[derive(Clone, Debug)]
pub struct DeclareWage {
    pub person_id: Uuid,
    /// In order; never empty.
    pub periods: Vec<Period>,
    pub monthly_wage: Money,
}

/// Compute a region's month: every enrolment, or one payer's.
#[derive(Clone, Debug)]
pub struct RunMonth {
    pub period: Period,
    pub region_code: String,
    pub payer: Option<Payer>,
}

/// A payer's bill for a month, as of a day.
#[derive(Clone, Debug)]
pub struct BillQuery {
    pub payer: Payer,
    pub period: Period,
    pub as_of: NaiveDate,
}

/// A page of a region's overdue bills as of a day.
#[derive(Clone, Debug)]
pub struct ArrearsQuery {
    pub region_code: String,
    pub as_of: NaiveDate,
    pub page_size: i64,
    pub after: Option<ArrearsKey>,
}

/// A person's statement over `[from, to]`.
#[derive(Clone, Copy, Debug)]
pub struct StatementRange {
    pub person_id: Uuid,
    pub from: Period,
    pub to: Period,
}

/// A page of a person's statement.
#[derive(Clone, Debug)]
pub struct StatementQuery {
    pub range: StatementRange,
    pub page_size: i64,
    pub after: Option<LineKey>,
}

/// One imported enrolment, parsed as `Enrol` parses it; its holder still
/// named by ID number (resolved with identity before the transaction).
#[derive(Clone, Debug)]
pub struct ImportEnrolment {
    pub holder: pii::IdNumber,
    pub region_code: String,
    pub insurance_type: InsuranceType,
    /// An employee's or a flexible worker's (agency enrolments are not imported).
    pub enrolling: Enrolling,
    pub term: Term,
}

/// One imported month of declared wage, parsed as `DeclareWage` parses it.
#[derive(Clone, Debug)]
pub struct ImportWage {
    pub holder: pii::IdNumber,
    pub month: Period,
    pub monthly_wage: Money,
}
