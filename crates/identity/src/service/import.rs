//! Imports of persons from the system a bureau replaces: one batch per
//! call through the mutation pipeline (a retried batch replays its answer),
//! every valid record stored in one multi-row statement.

use platform::{
    auth::Caller,
    import,
    mutation::{self, Audit, Effects, Mutation},
};
use socsec_proto::identity::v1 as pb;
use uuid::Uuid;

use super::{Identity, Result, Work};
use crate::{
    api::present::{self, events},
    domain::commands::ImportPersons,
    store::{self, ImportRow},
};

impl Identity {
    pub async fn import_persons(
        &self,
        caller: &Caller,
        command: ImportPersons,
        request: &pb::ImportPersonsRequest,
    ) -> Result<pb::ImportPersonsResponse> {
        let ImportPersons {
            request_id,
            records,
        } = command;
        let by = caller.to_string();
        let mutation = Mutation::new(caller, "ImportPersons", &request_id);
        let answer = mutation::run(
            &self.pool,
            mutation,
            request,
            async |conn| -> Work<pb::ImportPersonsResponse> {
                let valid: Vec<ImportRow> = records
                    .iter()
                    .filter_map(|(_, r)| r.as_ref().ok())
                    .map(|p| ImportRow {
                        person_id: Uuid::now_v7(),
                        id_number: &p.id_number,
                        info: &p.info,
                        confirmed: p.confirmed,
                        registered_at: p.registered_at,
                    })
                    .collect();
                let stored = store::import_persons(conn, &valid, &by, request_id.as_str()).await?;
                let mut stored_iter = stored.iter().zip(&valid);
                let mut outcomes = Vec::with_capacity(records.len());
                let mut registered = Vec::new();
                for (line, record) in &records {
                    match record {
                        Err(rejection) => outcomes.push(import::rejected(*line, rejection)),
                        Ok(_) => {
                            let (&(person_id, fresh), row) =
                                stored_iter.next().expect("one stored row per valid record");
                            if fresh {
                                registered.push((person_id, row.confirmed));
                                outcomes.push(import::imported(*line, person_id));
                            } else {
                                outcomes.push(import::already_imported(*line, person_id));
                            }
                        }
                    }
                }
                let audit = Audit::changes(registered.iter().map(|(id, _)| id.to_string()));
                Ok(Effects::new(
                    pb::ImportPersonsResponse { outcomes },
                    events::persons_imported(&registered),
                    audit,
                ))
            },
        )
        .await?;
        tracing::info!(records = answer.outcomes.len(), by = %by, "persons import batch");
        Ok(answer)
    }

    pub async fn lookup_persons(
        &self,
        caller: &Caller,
        id_numbers: Vec<pii::IdNumber>,
    ) -> Result<pb::LookupPersonsResponse> {
        let found = store::lookup_persons(&self.pool, &id_numbers, caller).await?;
        Ok(present::person_refs(&found))
    }
}
