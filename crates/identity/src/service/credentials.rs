//! Online credentials: setting the password at the counter, signing in.
//!
//! argon2 runs on a blocking thread and never while a database connection,
//! a transaction or a row lock is held: a password is hashed before its
//! transaction, and a sign-in verifies between reading the credential and
//! recording the outcome.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use pii::Secret;
use platform::{
    auth::{Caller, CallerKind},
    mutation::{self, Audit, Effects, Events, Mutation},
};
use socsec_proto::identity::v1 as pb;
use uuid::Uuid;

use super::{Identity, Result, Work};
use crate::{
    domain::{commands::*, password},
    error::IdentityError,
    store::{self, CredentialRow},
};

/// A signed-in person's session. No `Debug`: the token is a credential.
pub struct Session {
    pub person_id: Uuid,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl Identity {
    pub async fn set_online_password(
        &self,
        caller: &Caller,
        command: SetOnlinePassword,
        request: &pb::SetOnlinePasswordRequest,
    ) -> Result<pb::SetOnlinePasswordResponse> {
        let SetOnlinePassword {
            request_id,
            id_number,
            password,
        } = command;
        // The password is not part of the fingerprint kept for retries: no
        // unsalted digest of a password is ever stored.
        let fingerprint = pb::SetOnlinePasswordRequest {
            password: String::new(),
            ..request.clone()
        };
        let hash = tokio::task::spawn_blocking(move || password.hash())
            .await
            .map_err(|e| {
                IdentityError::Database(sqlx::Error::Protocol(format!("hashing task failed: {e}")))
            })?;
        let now = self.clock.now();
        let by = caller.to_string();
        let mutation = Mutation::new(caller, "SetOnlinePassword", &request_id);
        let answer = mutation::run(
            &self.pool,
            mutation,
            &fingerprint,
            async |conn| -> Work<pb::SetOnlinePasswordResponse> {
                let person = store::person_by_id_number(conn, &id_number)
                    .await?
                    .ok_or(IdentityError::PersonNotFound)?;
                store::set_password(conn, person.person_id, &hash, now, &by).await?;
                Ok(Effects::new(
                    pb::SetOnlinePasswordResponse {
                        person_id: person.person_id.to_string(),
                    },
                    Events::none(),
                    Audit::change(person.person_id),
                ))
            },
        )
        .await?;
        tracing::info!(person_id = %answer.person_id, by = %by, "online password set");
        Ok(answer)
    }

    /// Signs the person in, within the lockout policy. An unknown ID number
    /// fails like a wrong password.
    pub async fn sign_in(&self, command: SignIn) -> Result<Session> {
        let SignIn {
            id_number,
            password,
        } = command;
        let policy = self.sign_in.lockout;
        let now = self.clock.now();
        let password = Arc::new(password);
        // The hash last verified against, and whether the password matched it.
        let mut verified: Option<(String, bool)> = None;
        // Each round reads the credential and records its outcome only if the
        // credential is still as read. A round that loses that race means
        // another sign-in or a password change was recorded meanwhile; the
        // next round judges from that state.
        loop {
            let Some(credential) = store::credential(&self.pool, &id_number).await? else {
                return Err(IdentityError::SignInFailed);
            };
            let lockout = credential.lockout();
            if let Some(until) = lockout.locked_at(now) {
                return Err(IdentityError::AccountLocked { until });
            }
            let matches = match &verified {
                Some((hash, matches)) if *hash == credential.password_hash => *matches,
                _ => {
                    let matches = verify(&password, &credential).await;
                    verified = Some((credential.password_hash.clone(), matches));
                    matches
                }
            };
            let person_key = credential.person_id.to_string();
            if matches {
                let person = Caller::new(CallerKind::Person, person_key.clone());
                let next = policy.after_success();
                if store::record_sign_in_success(&self.pool, &credential, next, &person, "SignIn")
                    .await?
                {
                    let expires_at = now + self.sign_in.token_ttl;
                    return Ok(Session {
                        person_id: credential.person_id,
                        token: self.sessions.issue(&person_key, expires_at),
                        expires_at,
                    });
                }
            } else {
                let next = policy.after_failure(lockout, now);
                if store::record_sign_in_failure(&self.pool, &credential, next).await? {
                    tracing::info!(person_id = %person_key, locked = next.locked_until.is_some(), "sign-in failed");
                    return Err(match next.locked_until {
                        Some(until) => IdentityError::AccountLocked { until },
                        None => IdentityError::SignInFailed,
                    });
                }
            }
        }
    }
}

/// Whether `password` matches the credential's hash, checked on a blocking
/// thread with no connection held.
async fn verify(password: &Arc<Secret<String>>, credential: &CredentialRow) -> bool {
    let password = Arc::clone(password);
    let hash = credential.password_hash.clone();
    tokio::task::spawn_blocking(move || password::verify(&password, &hash))
        .await
        .unwrap_or(false)
}
