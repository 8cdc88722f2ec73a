//! The partners registered in identity, as this service knows them: kept in
//! memory for the hot paths, filled from the projection table at start and
//! updated by the identity projector as events arrive.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use platform::auth::{Caller, CallerKind};

use crate::{directory::Directory, error::ActivationError, store::PartnerRow};

#[derive(Clone, Default)]
pub struct Partners(Arc<RwLock<HashMap<String, PartnerRow>>>);

impl Partners {
    pub fn load(&self, rows: Vec<PartnerRow>) {
        let mut map = self.0.write().expect("partners lock");
        for row in rows {
            map.insert(row.code.clone(), row);
        }
    }

    pub fn put(&self, row: PartnerRow) {
        self.0
            .write()
            .expect("partners lock")
            .insert(row.code.clone(), row);
    }

    fn get(&self, code: &str) -> Option<PartnerRow> {
        self.0.read().expect("partners lock").get(code).cloned()
    }

    /// The caller as a registered partner of its own kind whose designation
    /// (or, for banks and outlets, co-operation) is in force. A partner not
    /// yet seen on identity's stream is asked of identity once.
    pub async fn in_force(
        &self,
        caller: &Caller,
        directory: &Directory,
    ) -> Result<PartnerRow, ActivationError> {
        let known = match self.get(&caller.code) {
            Some(partner) => Some(partner),
            None => directory.partner(&caller.code).await?.map(|p| {
                let row = crate::projection::partner_row(&p);
                self.put(row.clone());
                row
            }),
        };
        known
            .filter(|p| p.kind == caller.kind.as_str() && p.designation_in_force)
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
