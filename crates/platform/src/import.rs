//! Operators' imports of a province's existing records: what one record of
//! a batch came to. Each service parses every record with the very parser
//! its ordinary RPC uses (a record's `INVALID_ARGUMENT` becomes that
//! record's rejection, the others go in), stores the batch through the
//! mutation pipeline (a retried batch replays its answer) with
//! `INSERT … ON CONFLICT DO NOTHING` (a record already here is reported as
//! such and changes nothing).

use socsec_proto::common::v1::{ImportOutcome, ImportResult};
use tonic::Status;
use tonic_types::StatusExt;

/// The most records one import batch may carry.
pub const MAX_BATCH: usize = 1_000;

/// Why one record was not imported: its field and a machine-readable reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub field: String,
    pub reason: String,
}

impl Rejection {
    pub fn new(field: &str, reason: &str) -> Self {
        Self {
            field: field.to_owned(),
            reason: reason.to_owned(),
        }
    }

    /// The first bad field of a parser's `INVALID_ARGUMENT` (its `BadRequest`
    /// violation), else the status's `ErrorInfo` reason without a field.
    pub fn from_status(status: &Status) -> Self {
        let details = status.get_error_details();
        if let Some(v) = details
            .bad_request()
            .and_then(|b| b.field_violations.first())
        {
            return Self::new(&v.field, &v.reason);
        }
        let reason = details
            .error_info()
            .map(|i| i.reason.clone())
            .unwrap_or_else(|| "INVALID_ARGUMENT".to_owned());
        Self {
            field: String::new(),
            reason,
        }
    }
}

pub fn imported(line: i64, key: impl ToString) -> ImportOutcome {
    outcome(line, ImportResult::Imported, key.to_string())
}

pub fn already_imported(line: i64, key: impl ToString) -> ImportOutcome {
    outcome(line, ImportResult::AlreadyImported, key.to_string())
}

pub fn rejected(line: i64, rejection: &Rejection) -> ImportOutcome {
    ImportOutcome {
        line,
        result: ImportResult::Rejected as i32,
        field: rejection.field.clone(),
        reason: rejection.reason.clone(),
        key: String::new(),
    }
}

fn outcome(line: i64, result: ImportResult, key: String) -> ImportOutcome {
    ImportOutcome {
        line,
        result: result as i32,
        key,
        ..Default::default()
    }
}
