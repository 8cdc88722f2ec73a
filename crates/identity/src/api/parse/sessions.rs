//! Session requests into commands.

use platform::{
    error::{FieldViolations, required},
    idempotency::RequestId,
};
use socsec_proto::identity::v1 as pb;
use uuid::Uuid;

use super::{Result, accept, bounded, limits, parse_person_id};
use crate::domain::commands::{CheckSession, RevokeSessions};

pub fn sign_out(req: &pb::SignOutRequest) -> Result<RequestId> {
    bounded(&limits::SIGN_OUT, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    accept(v, request_id)
}

pub fn revoke_sessions(req: &pb::RevokeSessionsRequest) -> Result<RevokeSessions> {
    bounded(&limits::REVOKE_SESSIONS, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let person_id = parse_person_id(&mut v, &req.person_id);
    let reason = required(&mut v, "reason", &req.reason).map(str::to_owned);
    let (request_id, person_id, reason) =
        accept(v, platform::all_some!(request_id, person_id, reason))?;
    Ok(RevokeSessions {
        request_id,
        person_id,
        reason,
    })
}

pub fn check_session(req: &pb::CheckSessionRequest) -> Result<CheckSession> {
    bounded(&limits::CHECK_SESSION, req)?;
    let mut v = FieldViolations::new();
    let session_id = Uuid::parse_str(&req.session_id).ok();
    if session_id.is_none() {
        v.add(
            "session_id",
            "SESSION_ID_INVALID",
            "must be a session id (UUID)",
        );
    }
    let person_id = parse_person_id(&mut v, &req.person_id);
    let (session_id, person_id) = accept(v, platform::all_some!(session_id, person_id))?;
    Ok(CheckSession {
        session_id,
        person_id,
    })
}
