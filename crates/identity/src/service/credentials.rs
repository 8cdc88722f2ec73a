//! Online credentials: setting the password at the counter, signing in.
//!
//! argon2 runs on a blocking thread and never while a database connection,
//! a transaction or a row lock is held: a password is hashed before its
//! transaction, and a sign-in verifies between reading the credential and
//! recording the outcome, in one of a bounded number of hashing slots
//! (`guard`). Setting a password at the counter clears the sign-in delay
//! and ends every session.

use std::{net::IpAddr, sync::Arc};

use chrono::{DateTime, Utc};
use pii::{IdNumber, Secret};
use platform::{
    auth::{Caller, CallerKind},
    clock::Clock,
    mutation::{self, Audit, Effects, Events, Mutation},
};
use socsec_proto::identity::v1 as pb;
use sqlx::PgPool;
use uuid::Uuid;

use super::{Identity, Result, Work};
use crate::{
    domain::{LockoutPolicy, LockoutState, commands::*},
    error::IdentityError,
    store::{self, Ending, NewSession},
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
        // The fingerprint kept for retries holds only an HMAC of the password
        // under a deployment key: no unsalted digest that could be undone
        // offline is stored, and the request id reused with another password
        // is still refused as a reuse.
        let fingerprint = pb::SetOnlinePasswordRequest {
            password: String::new(),
            ..request.clone()
        };
        let secrets: &[&[u8]] = &[request.password.as_bytes()];
        let hash = tokio::task::spawn_blocking(move || password.hash())
            .await
            .map_err(|e| {
                IdentityError::Database(sqlx::Error::Protocol(format!("hashing task failed: {e}")))
            })?;
        let now = self.clock.now();
        let by = caller.to_string();
        let mutation = Mutation::new(caller, "SetOnlinePassword", &request_id)
            .with_secrets(&self.fingerprint_keys, secrets);
        let answer = mutation::run(
            &self.pool,
            mutation,
            &fingerprint,
            async |conn| -> Work<pb::SetOnlinePasswordResponse> {
                let person = store::person_by_id_number(conn, &id_number)
                    .await?
                    .ok_or(IdentityError::PersonNotFound)?;
                store::set_password(conn, person.person_id, &hash, now, &by).await?;
                // A new password ends every session: a token taken with
                // the old one stops working.
                let ending = Ending {
                    at: now,
                    by: &by,
                    reason: "password set at the counter",
                };
                store::end_sessions_of(conn, person.person_id, ending).await?;
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

    /// Signs the person in, within the rate limits and the delay policy.
    /// An unknown ID number (or one without a password) is answered like a
    /// wrong password: same checks, a hash verified (against a dummy), the
    /// same delays (kept in memory), the same refusals.
    pub async fn sign_in(&self, command: SignIn, client: IpAddr) -> Result<Session> {
        let SignIn {
            id_number,
            password,
        } = command;
        self.limits.sign_in_from(client)?;
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
                return self.sign_in_unknown(&id_number, &password).await;
            };
            let lockout = policy.standing(credential.lockout(), credential.last_failed_at, now);
            if let Some(until) = lockout.locked_at(now) {
                return Err(IdentityError::SignInDelayed { until, now });
            }
            let matches = match &verified {
                Some((hash, matches)) if *hash == credential.password_hash => *matches,
                _ => {
                    if verified.is_none() {
                        self.limits
                            .judge_id_number(&id_number, Some(&credential.password_hash))?;
                    }
                    let matches = self
                        .limits
                        .verify(&password, Some(&credential.password_hash))
                        .await?;
                    verified = Some((credential.password_hash.clone(), matches));
                    matches
                }
            };
            let person_key = credential.person_id.to_string();
            if matches {
                let person = Caller::new(CallerKind::Person, person_key.clone());
                let session = NewSession {
                    session_id: Uuid::new_v4(),
                    issued_at: now,
                    expires_at: now + self.sign_in.token_ttl,
                };
                let next = policy.after_success();
                if store::record_sign_in_success(
                    &self.pool,
                    &credential,
                    next,
                    &session,
                    &person,
                    "SignIn",
                )
                .await?
                {
                    let token = self.sessions.issue(
                        &person_key,
                        &session.session_id.to_string(),
                        session.expires_at,
                    );
                    return Ok(Session {
                        person_id: credential.person_id,
                        token,
                        expires_at: session.expires_at,
                    });
                }
            } else {
                let next = policy.after_failure(lockout, now);
                if store::record_sign_in_failure(&self.pool, &credential, next, now).await? {
                    tracing::info!(person_id = %person_key, delayed = next.locked_until.is_some(), "sign-in failed");
                    return Err(refusal(next, now));
                }
            }
        }
    }

    /// A sign-in of an ID number without a credential: judged like a wrong
    /// password, its delay state kept in the database (under an HMAC of the
    /// ID number) and recorded like a credential's, only if still as read.
    async fn sign_in_unknown(
        &self,
        id_number: &IdNumber,
        password: &Arc<Secret<String>>,
    ) -> Result<Session> {
        let (policy, now) = (self.sign_in.lockout, self.clock.now());
        let key = self.limits.unknown_key(id_number);
        let mut judged = false;
        loop {
            let stored = store::unknown_state(&self.pool, &key).await?;
            let state = stored.map_or_else(LockoutState::default, |(state, last_failed_at)| {
                policy.standing(state, Some(last_failed_at), now)
            });
            if let Some(until) = state.locked_at(now) {
                return Err(IdentityError::SignInDelayed { until, now });
            }
            if !judged {
                self.limits.judge_id_number(id_number, None)?;
                self.limits.verify(password, None).await?;
                judged = true;
            }
            let next = policy.after_failure(state, now);
            let stored = stored.map(|(state, _)| state);
            if store::record_unknown_failure(&self.pool, &key, stored, next, now).await? {
                return Err(refusal(next, now));
            }
        }
    }
}

/// The refusal of a wrong password that led to `next`.
fn refusal(next: LockoutState, now: DateTime<Utc>) -> IdentityError {
    match next.locked_until {
        Some(until) => IdentityError::SignInDelayed { until, now },
        None => IdentityError::SignInFailed,
    }
}

/// Forgets unknown ID numbers' delay states idle past their lifetime: every
/// ten minutes, until the service stops.
pub async fn prune_unknown_states(pool: PgPool, policy: LockoutPolicy, clock: Arc<dyn Clock>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        let before = policy.forgotten_before(clock.now());
        match store::prune_unknown(&pool, before).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "unknown ID numbers' sign-in states forgotten"),
            Err(e) => {
                tracing::warn!(error = %e, "pruning unknown sign-in states failed; will retry")
            }
        }
    }
}
