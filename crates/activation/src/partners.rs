//! The partners registered in identity, as this service knows them: kept in
//! memory for the hot paths, filled from the projection table at start,
//! updated by the identity projector as events arrive (on the instance that
//! leads it) and by [`Partners::follow_table`] from the table (on every
//! instance). Each entry keeps the position of the event it came from, and
//! an older one never replaces it.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use platform::auth::{Caller, CallerKind};
use sqlx::PgPool;

use crate::{directory::Directory, domain::Partner, error::ActivationError, store};

/// How often each instance reads the partners the projector changed.
const REFRESH: Duration = Duration::from_millis(500);
/// How often it reads them all (a row written out of position order during
/// a change of leader is not missed for longer than this).
const RELOAD: Duration = Duration::from_secs(60);

#[derive(Clone, Default)]
pub struct Partners(Arc<RwLock<HashMap<String, (Partner, i64)>>>);

impl Partners {
    /// Puts each partner (with the position of the event it came from);
    /// returns the highest position seen.
    pub fn load(&self, partners: Vec<(Partner, i64)>) -> i64 {
        let mut last = -1;
        for (partner, position) in partners {
            last = last.max(position);
            self.put(partner, position);
        }
        last
    }

    /// Puts the partner as published at `position`, unless a later
    /// publication is known.
    pub fn put(&self, partner: Partner, position: i64) {
        let mut map = self.0.write().expect("partners lock");
        match map.get(&partner.code) {
            Some((_, known)) if *known > position => {}
            _ => {
                map.insert(partner.code.clone(), (partner, position));
            }
        }
    }

    fn get(&self, code: &str) -> Option<Partner> {
        self.0
            .read()
            .expect("partners lock")
            .get(code)
            .map(|(partner, _)| partner.clone())
    }

    /// Reads what the identity projector (on whichever instance leads it)
    /// wrote to the table, for ever: changes every half second, everything
    /// every minute.
    pub async fn follow_table(self, pool: PgPool, mut last: i64) {
        let mut since_reload = Duration::ZERO;
        loop {
            tokio::time::sleep(REFRESH).await;
            since_reload += REFRESH;
            let after = if since_reload >= RELOAD {
                since_reload = Duration::ZERO;
                -1
            } else {
                last
            };
            match store::projection::partners_after(&pool, after).await {
                Ok(changed) => last = last.max(self.load(changed)),
                Err(e) => tracing::warn!(error = %e, "could not read partners"),
            }
        }
    }

    /// The caller as a registered partner of its own kind whose designation
    /// (or, for banks and outlets, co-operation) is in force. A partner not
    /// yet seen on identity's stream is asked of identity once.
    pub async fn in_force(
        &self,
        caller: &Caller,
        directory: &Directory,
    ) -> Result<Partner, ActivationError> {
        let known = match self.get(&caller.code) {
            Some(partner) => Some(partner),
            // As identity has it now; any event on the stream replaces it.
            None => directory
                .partner(&caller.code)
                .await?
                .as_ref()
                .and_then(crate::published::partner)
                .inspect(|partner| self.put(partner.clone(), 0)),
        };
        known
            .filter(|p| p.in_force_as(caller.kind))
            .ok_or(ActivationError::PartnerNotDesignated)
    }

    /// Checks a caller that must be a designated partner; operators and
    /// services pass.
    pub async fn ensure_designated(
        &self,
        caller: &Caller,
        directory: &Directory,
    ) -> Result<(), ActivationError> {
        match caller.kind {
            CallerKind::Operator | CallerKind::Service => Ok(()),
            _ => self.in_force(caller, directory).await.map(|_| ()),
        }
    }
}
