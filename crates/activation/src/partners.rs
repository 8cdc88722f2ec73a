//! The partners registered in identity, as this service knows them: kept in
//! memory for the hot paths, filled from the projection table at start and
//! updated by the identity projector as events arrive.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use platform::auth::{Caller, CallerKind};

use crate::{directory::Directory, domain::Partner, error::ActivationError};

#[derive(Clone, Default)]
pub struct Partners(Arc<RwLock<HashMap<String, Partner>>>);

impl Partners {
    pub fn load(&self, partners: Vec<Partner>) {
        let mut map = self.0.write().expect("partners lock");
        for partner in partners {
            map.insert(partner.code.clone(), partner);
        }
    }

    pub fn put(&self, partner: Partner) {
        self.0
            .write()
            .expect("partners lock")
            .insert(partner.code.clone(), partner);
    }

    fn get(&self, code: &str) -> Option<Partner> {
        self.0.read().expect("partners lock").get(code).cloned()
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
            None => directory
                .partner(&caller.code)
                .await?
                .as_ref()
                .and_then(crate::projection::partner)
                .inspect(|partner| self.put(partner.clone())),
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
