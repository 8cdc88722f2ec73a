//! What each RPC asks for, once its request has parsed: every field valid,
//! every identifier typed.

use chrono::{DateTime, Utc};
use pii::{IdNumber, PartnerCode, PersonName, Secret};
use platform::{idempotency::RequestId, paging::Page};
use uuid::Uuid;

use super::{BasicInfo, NewPartner, OnlinePassword, PartnerKind};

#[derive(Debug)]
pub struct RegisterPerson {
    pub request_id: RequestId,
    pub id_number: IdNumber,
    pub info: BasicInfo,
}

#[derive(Debug)]
pub struct ConfirmBasicInfo {
    pub request_id: RequestId,
    pub person_id: Uuid,
    /// The version being confirmed.
    pub version: i32,
}

#[derive(Debug)]
pub struct CorrectBasicInfo {
    pub request_id: RequestId,
    pub person_id: Uuid,
    pub info: BasicInfo,
    pub reason: String,
    pub evidence_ref: String,
    /// The version being corrected.
    pub version: i32,
}

#[derive(Debug)]
pub struct VerifyIdentity {
    pub id_number: IdNumber,
    pub name: PersonName,
}

#[derive(Debug)]
pub struct VerifyHolder {
    pub person_id: Uuid,
    pub id_number: IdNumber,
}

#[derive(Debug)]
pub struct SetOnlinePassword {
    pub request_id: RequestId,
    pub id_number: IdNumber,
    pub password: OnlinePassword,
}

#[derive(Debug)]
pub struct SignIn {
    pub id_number: IdNumber,
    pub password: Secret<String>,
}

#[derive(Debug)]
pub struct RevokeSessions {
    pub request_id: RequestId,
    pub person_id: Uuid,
    pub reason: String,
}

#[derive(Clone, Copy, Debug)]
pub struct CheckSession {
    pub session_id: Uuid,
    pub person_id: Uuid,
}

#[derive(Debug)]
pub struct RegisterPartner {
    pub request_id: RequestId,
    pub partner: NewPartner,
}

#[derive(Debug)]
pub struct SetPartnerDesignation {
    pub request_id: RequestId,
    pub code: PartnerCode,
    pub in_force: bool,
    pub reason: String,
    /// Banks only: set or withdraw the collecting designation; `None`: unchanged.
    pub collects_contributions: Option<bool>,
}

#[derive(Debug)]
pub struct ListPartners {
    pub kind: Option<PartnerKind>,
    pub page: Page,
}

/// A batch of persons from the system a bureau replaces: each record
/// parsed (with its line) or rejected.
#[derive(Debug)]
pub struct ImportPersons {
    pub request_id: RequestId,
    pub records: Vec<(i64, Result<ImportPerson, platform::import::Rejection>)>,
}

#[derive(Debug)]
pub struct ImportPerson {
    pub id_number: IdNumber,
    pub info: BasicInfo,
    /// The old system had the information confirmed.
    pub confirmed: bool,
    pub registered_at: DateTime<Utc>,
}
