//! Requests into domain commands. Each parser first checks the request's
//! size against its limits (`limits`), then collects every bad field before
//! refusing, so the caller sees them all at once.

mod import;
pub mod limits;
mod partners;
mod sessions;

pub use import::{import_persons, lookup_persons};
pub use partners::{get_partner, list_partners, register_partner, set_partner_designation};
pub use sessions::{check_session, revoke_sessions, sign_out};

use std::net::{IpAddr, SocketAddr};

use chrono::NaiveDate;
use pii::{Gender, IdNumber, PersonName, Secret};
use platform::{
    auth::{CLIENT_ADDRESS_HEADER, Caller, CallerKind},
    error::{FieldViolations, Reason, required},
    idempotency::RequestId,
    limits::Limits,
};
use socsec_proto::{common::v1 as common, identity::v1 as pb};
use uuid::Uuid;

use crate::{
    domain::{
        BasicInfo, OnlinePassword,
        basic_info::{self, ADDRESS_MAX, ETHNICITY_MAX, GenderMismatch, PhoneError, TextError},
        commands::*,
        partner::PartnerNameInvalid,
        password::PasswordTooWeak,
    },
    error::IdentityError,
};

type Result<T> = std::result::Result<T, IdentityError>;

macro_rules! reasons {
    ($($t:ty),*) => {$(
        impl Reason for $t {
            fn reason(&self) -> &'static str {
                <$t>::reason(self)
            }
        }
    )*};
}
reasons!(
    TextError,
    PhoneError,
    GenderMismatch,
    PartnerNameInvalid,
    PasswordTooWeak
);

/// The parsed request, or `INVALID_ARGUMENT` with every bad field.
fn accept<T>(violations: FieldViolations, parsed: Option<T>) -> Result<T> {
    violations.finish(parsed).map_err(IdentityError::Invalid)
}

/// `Ok` if `req` is within `limits`; checked before anything else is read.
fn bounded<M>(limits: &Limits<M>, req: &M) -> Result<()> {
    limits.check(req).map_err(IdentityError::Invalid)
}

pub fn register_person(
    req: &pb::RegisterPersonRequest,
    today: NaiveDate,
) -> Result<RegisterPerson> {
    bounded(&limits::REGISTER_PERSON, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let id_number = id_number(&mut v, &req.id_number, today);
    let info = info(&mut v, req.basic_info.as_ref(), id_number.as_ref());
    let (request_id, id_number, info) =
        accept(v, platform::all_some!(request_id, id_number, info))?;
    Ok(RegisterPerson {
        request_id,
        id_number,
        info,
    })
}

pub fn get_person(req: &pb::GetPersonRequest) -> Result<Uuid> {
    bounded(&limits::GET_PERSON, req)?;
    person_id(&req.person_id)
}

pub fn list_basic_info_versions(req: &pb::ListBasicInfoVersionsRequest) -> Result<Uuid> {
    bounded(&limits::LIST_BASIC_INFO_VERSIONS, req)?;
    person_id(&req.person_id)
}

fn person_id(req_person_id: &str) -> Result<Uuid> {
    let mut v = FieldViolations::new();
    let person_id = parse_person_id(&mut v, req_person_id);
    accept(v, person_id)
}

pub fn lookup_person(req: &pb::LookupPersonRequest, today: NaiveDate) -> Result<IdNumber> {
    bounded(&limits::LOOKUP_PERSON, req)?;
    let mut v = FieldViolations::new();
    let id_number = id_number(&mut v, &req.id_number, today);
    accept(v, id_number)
}

pub fn verify_identity(
    req: &pb::VerifyIdentityRequest,
    today: NaiveDate,
) -> Result<VerifyIdentity> {
    bounded(&limits::VERIFY_IDENTITY, req)?;
    let mut v = FieldViolations::new();
    let id_number = id_number(&mut v, &req.id_number, today);
    let name = v.check("name", PersonName::parse(&req.name));
    let (id_number, name) = accept(v, platform::all_some!(id_number, name))?;
    Ok(VerifyIdentity { id_number, name })
}

pub fn verify_holder(req: &pb::VerifyHolderRequest, today: NaiveDate) -> Result<VerifyHolder> {
    bounded(&limits::VERIFY_HOLDER, req)?;
    let mut v = FieldViolations::new();
    let person_id = parse_person_id(&mut v, &req.person_id);
    let id_number = id_number(&mut v, &req.id_number, today);
    let (person_id, id_number) = accept(v, platform::all_some!(person_id, id_number))?;
    Ok(VerifyHolder {
        person_id,
        id_number,
    })
}

pub fn confirm_basic_info(req: &pb::ConfirmBasicInfoRequest) -> Result<ConfirmBasicInfo> {
    bounded(&limits::CONFIRM_BASIC_INFO, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let person_id = parse_person_id(&mut v, &req.person_id);
    let version = version(&mut v, req.version);
    let (request_id, person_id, version) =
        accept(v, platform::all_some!(request_id, person_id, version))?;
    Ok(ConfirmBasicInfo {
        request_id,
        person_id,
        version,
    })
}

pub fn correct_basic_info(req: &pb::CorrectBasicInfoRequest) -> Result<CorrectBasicInfo> {
    bounded(&limits::CORRECT_BASIC_INFO, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let person_id = parse_person_id(&mut v, &req.person_id);
    // The gender is checked against the ID number on record, in the service.
    let info = info(&mut v, req.basic_info.as_ref(), None);
    let reason = required(&mut v, "reason", &req.reason).map(str::to_owned);
    let evidence_ref = required(&mut v, "evidence_ref", &req.evidence_ref).map(str::to_owned);
    let version = version(&mut v, req.version);
    let (request_id, person_id, info, reason, evidence_ref, version) = accept(
        v,
        platform::all_some!(request_id, person_id, info, reason, evidence_ref, version),
    )?;
    Ok(CorrectBasicInfo {
        request_id,
        person_id,
        info,
        reason,
        evidence_ref,
        version,
    })
}

pub fn set_online_password(
    req: &pb::SetOnlinePasswordRequest,
    today: NaiveDate,
) -> Result<SetOnlinePassword> {
    bounded(&limits::SET_ONLINE_PASSWORD, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let id_number = id_number(&mut v, &req.id_number, today);
    let password = v.check("password", OnlinePassword::parse(&req.password));
    let (request_id, id_number, password) =
        accept(v, platform::all_some!(request_id, id_number, password))?;
    Ok(SetOnlinePassword {
        request_id,
        id_number,
        password,
    })
}

pub fn sign_in(req: pb::SignInRequest, today: NaiveDate) -> Result<SignIn> {
    bounded(&limits::SIGN_IN, &req)?;
    let mut v = FieldViolations::new();
    let id_number = id_number(&mut v, &req.id_number, today);
    if req.password.is_empty() {
        v.add("password", "FIELD_REQUIRED", "is required");
    }
    let id_number = accept(v, id_number)?;
    Ok(SignIn {
        id_number,
        password: Secret::new(req.password),
    })
}

/// The address a sign-in is counted against. The web portal signs persons
/// in from one address of its own, so it names each browser's address in
/// `x-socsec-client-address` (required from it); no one else may name one,
/// and for them the TCP peer counts (a header they send is not believed).
pub fn client_address(
    caller: Option<&Caller>,
    named: Option<&str>,
    peer: Option<SocketAddr>,
) -> Result<IpAddr> {
    let peer = peer.map_or(IpAddr::from([0, 0, 0, 0]), |addr| addr.ip());
    if !caller.is_some_and(|caller| caller.is(CallerKind::Portal)) {
        return Ok(peer);
    }
    let mut v = FieldViolations::new();
    let address = match named.map(str::trim).filter(|named| !named.is_empty()) {
        None => {
            v.add(
                CLIENT_ADDRESS_HEADER,
                "FIELD_REQUIRED",
                "the portal names the address of the browser it signs in for",
            );
            None
        }
        Some(named) => {
            let parsed = named.parse::<IpAddr>().ok();
            if parsed.is_none() {
                v.add(
                    CLIENT_ADDRESS_HEADER,
                    "CLIENT_ADDRESS_INVALID",
                    "must be an IPv4 or IPv6 address",
                );
            }
            parsed
        }
    };
    accept(v, address)
}

/// A `Watch…` request: only its size needs checking here (the cursor is
/// read by the event stream).
pub fn watch_identity_events(req: &pb::WatchIdentityEventsRequest) -> Result<()> {
    bounded(&limits::WATCH_IDENTITY_EVENTS, req)
}

fn id_number(v: &mut FieldViolations, value: &str, today: NaiveDate) -> Option<IdNumber> {
    v.check("id_number", IdNumber::parse(value, today))
}

fn parse_person_id(v: &mut FieldViolations, value: &str) -> Option<Uuid> {
    let parsed = Uuid::parse_str(value).ok();
    if parsed.is_none() {
        v.add(
            "person_id",
            "PERSON_ID_INVALID",
            "must be a person id (UUID)",
        );
    }
    parsed
}

fn version(v: &mut FieldViolations, version: i32) -> Option<i32> {
    if version < 1 {
        v.add(
            "version",
            "VERSION_REQUIRED",
            "must be the version being acted on (1 or more)",
        );
        return None;
    }
    Some(version)
}

/// `basic_info` for the person with `id_number` (when that parsed): the
/// gender must agree with it.
fn info(
    v: &mut FieldViolations,
    info: Option<&pb::BasicInfo>,
    id_number: Option<&IdNumber>,
) -> Option<BasicInfo> {
    let Some(info) = info else {
        v.add("basic_info", "FIELD_REQUIRED", "is required");
        return None;
    };
    let name = v.check("basic_info.name", PersonName::parse(&info.name));
    let gender = match common::Gender::try_from(info.gender) {
        Ok(common::Gender::Male) => Some(Gender::Male),
        Ok(common::Gender::Female) => Some(Gender::Female),
        _ => {
            v.add(
                "basic_info.gender",
                "GENDER_REQUIRED",
                "must be MALE or FEMALE",
            );
            None
        }
    };
    if let (Some(gender), Some(id_number)) = (gender, id_number) {
        v.check(
            "basic_info.gender",
            basic_info::check_gender(gender, id_number),
        );
    }
    let ethnicity = v.check(
        "basic_info.ethnicity",
        basic_info::text(&info.ethnicity, ETHNICITY_MAX),
    );
    let phone = v.check("basic_info.phone", basic_info::phone(&info.phone));
    let address = v.check(
        "basic_info.address",
        basic_info::text(&info.address, ADDRESS_MAX),
    );
    Some(BasicInfo {
        name: name?,
        gender: gender?,
        ethnicity: ethnicity?,
        phone: phone?,
        address: address?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(error: IdentityError) -> Vec<String> {
        let IdentityError::Invalid(status) = error else {
            panic!("not a field error: {error:?}");
        };
        status.message()["invalid request: ".len()..]
            .split(", ")
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn a_registration_reports_every_bad_field_in_order() {
        let req = pb::RegisterPersonRequest {
            request_id: String::new(),
            id_number: "123".into(),
            basic_info: Some(pb::BasicInfo {
                phone: "12".into(),
                ..Default::default()
            }),
        };
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let error = register_person(&req, today).unwrap_err();
        assert_eq!(
            fields(error),
            [
                "request_id",
                "id_number",
                "basic_info.name",
                "basic_info.gender",
                "basic_info.ethnicity",
                "basic_info.phone",
                "basic_info.address"
            ]
        );
    }
}
