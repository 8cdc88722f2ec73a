//! The one way a mutating RPC changes state: the transaction pipeline.
//!
//! A handler first does everything that needs the network (reads from other
//! services), outside any transaction. Then it hands [`run`] the request's
//! [`Mutation`] (who, which RPC, which request id, and the request as its
//! fingerprint) and its local work: a closure that receives **only the
//! database connection**. The pipeline owns the rest:
//!
//! 0. (before the remote reads) [`replay`]: a retry of an answered request
//!    gets its answer without touching another service;
//! 1. begin;
//! 2. claim `(caller, request_id)`, or replay the answer stored by the first
//!    call (a concurrent duplicate waits on the claim and then replays);
//! 3. the local work, which re-checks the local facts it depends on, acts,
//!    and returns its [`Effects`]: the answer, the events and the audit entry;
//! 4. one statement storing the answer, appending the events to the outbox
//!    and writing the audit trail;
//! 5. commit.
//!
//! [`Effects::new`] takes all three, so an event or an audit entry cannot be
//! forgotten, only declared absent ([`Events::none`], [`Audit::none`]).
//! Calls to other services after commit go through a relay, never inside the
//! transaction. A work that fails rolls everything back, the claim included,
//! so a retry of a refused request is judged again.

use prost::Message;
use sqlx::{PgConnection, PgPool};

use crate::{
    auth::Caller,
    idempotency::{self, Claim, FingerprintKeys, IdempotencyError, RequestId, Secrets},
};

/// Who asks for which change, under which request id.
#[derive(Clone, Copy, Debug)]
pub struct Mutation<'a> {
    pub caller: &'a Caller,
    /// The RPC's name as the audit trail shows it (`ActivateAtHospital`).
    pub rpc: &'static str,
    pub request_id: &'a RequestId,
    /// Secret fields (PINs, passwords) cleared from the fingerprint proto,
    /// fingerprinted by a keyed digest instead.
    secrets: Option<Secrets<'a>>,
}

impl<'a> Mutation<'a> {
    pub fn new(caller: &'a Caller, rpc: &'static str, request_id: &'a RequestId) -> Self {
        Self {
            caller,
            rpc,
            request_id,
            secrets: None,
        }
    }

    /// The request's secret fields, which the caller has cleared from the
    /// proto it passes as the fingerprint: a retry must carry the same
    /// secrets (another PIN under the same request id is a reuse), and
    /// only an HMAC of them under `keys` is stored.
    pub fn with_secrets(self, keys: &'a FingerprintKeys, values: &'a [&'a [u8]]) -> Self {
        Self {
            secrets: Some(Secrets { keys, values }),
            ..self
        }
    }
}

/// Events a change publishes on the service's outbox, in order.
#[derive(Debug, Default)]
pub struct Events(Vec<(&'static str, Vec<u8>)>);

impl Events {
    /// The change publishes nothing (its effect is visible to no other service).
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// One event: its type name and encoded payload.
    pub fn one(event_type: &'static str, payload: Vec<u8>) -> Self {
        Self(vec![(event_type, payload)])
    }

    /// Several events, published in this order.
    pub fn many(events: impl IntoIterator<Item = (&'static str, Vec<u8>)>) -> Self {
        Self(events.into_iter().collect())
    }
}

/// Whose personal data a change touched, for the audit trail.
#[derive(Debug)]
pub struct Audit(Vec<String>);

impl Audit {
    /// The change touches no person's data (a rate table, a region policy).
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// The change touched this person's data (their id).
    pub fn change(subject_id: impl ToString) -> Self {
        Self(vec![subject_id.to_string()])
    }

    /// The change touched each of these persons' data (a batch).
    pub fn changes(subject_ids: impl IntoIterator<Item = String>) -> Self {
        Self(subject_ids.into_iter().collect())
    }
}

/// What a change produced: the answer (stored for replays), its events and
/// its audit entries. All three are required.
#[must_use]
#[derive(Debug)]
pub struct Effects<A> {
    answer: A,
    events: Events,
    audit: Audit,
}

impl<A> Effects<A> {
    pub fn new(answer: A, events: Events, audit: Audit) -> Self {
        Self {
            answer,
            events,
            audit,
        }
    }
}

/// The answer already given under `mutation`'s request id, if any: call it
/// before a mutation's remote reads, so a partner's retry is answered from
/// the stored answer even while another service is down (and a reused
/// request id is refused before any remote call). The pipeline checks again
/// under its claim.
pub async fn replay<Req, A>(
    pool: &PgPool,
    mutation: Mutation<'_>,
    request: &Req,
) -> Result<Option<A>, IdempotencyError>
where
    Req: Message,
    A: Message + Default,
{
    idempotency::stored_answer(
        pool,
        mutation.caller,
        mutation.rpc,
        mutation.request_id,
        request,
        mutation.secrets,
    )
    .await
}

/// Runs `work` in one transaction under `mutation`'s request id: begin,
/// claim or replay, work, store answer + events + audit, commit. `request`
/// is the fingerprint a retry must match (the parsed request's proto;
/// secrets such as PINs and passwords must be cleared from it first and
/// given with [`Mutation::with_secrets`]).
pub async fn run<Req, A, E, W>(
    pool: &PgPool,
    mutation: Mutation<'_>,
    request: &Req,
    work: W,
) -> Result<A, E>
where
    Req: Message,
    A: Message + Default,
    E: From<sqlx::Error> + From<IdempotencyError>,
    W: AsyncFnOnce(&mut PgConnection) -> Result<Effects<A>, E>,
{
    let mut tx = pool.begin().await?;
    let claim = idempotency::claim(
        &mut tx,
        mutation.caller,
        mutation.rpc,
        mutation.request_id,
        request,
        mutation.secrets,
    )
    .await?;
    let ticket = match claim {
        Claim::Fresh(ticket) => ticket,
        Claim::Replay(answer) => return Ok(answer),
    };
    let effects = work(&mut tx).await?;
    ticket
        .finish(
            &mut tx,
            mutation,
            &effects.answer,
            &effects.events,
            &effects.audit,
        )
        .await?;
    tx.commit().await?;
    Ok(effects.answer)
}

impl Events {
    pub(crate) fn columns(&self) -> (Vec<&str>, Vec<&[u8]>) {
        self.0.iter().map(|(t, p)| (*t, p.as_slice())).unzip()
    }
}

impl Audit {
    pub(crate) fn subjects(&self) -> Vec<String> {
        self.0.iter().map(|s| crate::audit::canonical(s)).collect()
    }
}
