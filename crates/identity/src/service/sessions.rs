//! Sessions: signing out, an operator's revocation, the liveness check the
//! auth layers ask.

use platform::{
    auth::Caller,
    idempotency::RequestId,
    mutation::{self, Audit, Effects, Events, Mutation},
    session::SessionId,
};
use socsec_proto::identity::v1 as pb;
use uuid::Uuid;

use super::{Identity, Result, Work};
use crate::{
    domain::{access::ensure_own, commands::*},
    error::IdentityError,
    store::{self, Ending},
};

impl Identity {
    /// Ends the session of the token the person called with.
    pub async fn sign_out(
        &self,
        caller: &Caller,
        session: Option<SessionId>,
        request_id: RequestId,
        request: &pb::SignOutRequest,
    ) -> Result<pb::SignOutResponse> {
        let person_id = Uuid::parse_str(&caller.code).map_err(|_| IdentityError::NotOwnRecord)?;
        ensure_own(caller, person_id)?;
        let session_id = session
            .and_then(|s| Uuid::parse_str(&s.0).ok())
            .ok_or(IdentityError::NotOwnRecord)?;
        let now = self.clock.now();
        let by = caller.to_string();
        let mutation = Mutation::new(caller, "SignOut", &request_id);
        mutation::run(
            &self.pool,
            mutation,
            request,
            async |conn| -> Work<pb::SignOutResponse> {
                let ending = Ending {
                    at: now,
                    by: &by,
                    reason: "signed out",
                };
                store::end_session(conn, session_id, person_id, ending).await?;
                Ok(Effects::new(
                    pb::SignOutResponse {
                        session_id: session_id.to_string(),
                    },
                    Events::none(),
                    Audit::change(person_id),
                ))
            },
        )
        .await
    }

    /// Ends every live session of a person (an operator's revocation).
    pub async fn revoke_sessions(
        &self,
        caller: &Caller,
        command: RevokeSessions,
        request: &pb::RevokeSessionsRequest,
    ) -> Result<pb::RevokeSessionsResponse> {
        let RevokeSessions {
            request_id,
            person_id,
            reason,
        } = command;
        let now = self.clock.now();
        let by = caller.to_string();
        let mutation = Mutation::new(caller, "RevokeSessions", &request_id);
        let answer = mutation::run(
            &self.pool,
            mutation,
            request,
            async |conn| -> Work<pb::RevokeSessionsResponse> {
                store::lock_person(conn, person_id)
                    .await?
                    .ok_or(IdentityError::PersonNotFound)?;
                let ending = Ending {
                    at: now,
                    by: &by,
                    reason: &reason,
                };
                let revoked = store::end_sessions_of(conn, person_id, ending).await?;
                Ok(Effects::new(
                    pb::RevokeSessionsResponse {
                        revoked: i32::try_from(revoked).unwrap_or(i32::MAX),
                    },
                    Events::none(),
                    Audit::change(person_id),
                ))
            },
        )
        .await?;
        tracing::info!(person_id = %person_id, by = %by, revoked = answer.revoked, "sessions revoked");
        Ok(answer)
    }

    /// Whether a session is live, from the admission pool (a sign-in flood
    /// cannot starve it).
    pub async fn check_session(&self, command: CheckSession) -> Result<bool> {
        Ok(store::session_live(
            &self.admission,
            command.session_id,
            command.person_id,
            self.clock.now(),
        )
        .await?)
    }
}
