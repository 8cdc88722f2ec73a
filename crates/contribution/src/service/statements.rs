//! A person's statement: checked against the caller and read with its
//! audit entry in one store transaction, or streamed after one.

use platform::auth::Caller;
use socsec_proto::contribution::v1 as pb;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::{ContributionService, Result};
use crate::{
    api::present,
    domain::{
        access,
        commands::{StatementQuery, StatementRange},
    },
    error::ContributionError,
    store::{self, StatementPage},
};

/// Lines read per query of a streamed statement.
const STREAM_BATCH: i64 = 500;

impl ContributionService {
    pub async fn statement(&self, caller: &Caller, q: StatementQuery) -> Result<StatementPage> {
        let record = access::record_access(caller, q.range.person_id, self.this_month());
        let visible = access::visible_lines(caller).ok_or(ContributionError::NotOwnRecord)?;
        store::read_statement(&self.pool, caller, &record, &visible, &q)
            .await?
            .ok_or(ContributionError::NotOwnRecord)
    }

    pub async fn stream_statement(
        &self,
        caller: &Caller,
        range: StatementRange,
    ) -> Result<ReceiverStream<Result<pb::StatementLine, Status>>> {
        let record = access::record_access(caller, range.person_id, self.this_month());
        let visible = access::visible_lines(caller).ok_or(ContributionError::NotOwnRecord)?;
        if !store::admit_statement_stream(&self.pool, caller, &record, range.person_id).await? {
            return Err(ContributionError::NotOwnRecord);
        }
        let (sender, receiver) = mpsc::channel(64);
        let pool = self.pool.clone();
        self.tasks.spawn(async move {
            let mut after = None;
            loop {
                let lines = match store::statement_lines(
                    &pool,
                    range,
                    visible.payer(),
                    after.as_ref(),
                    STREAM_BATCH,
                )
                .await
                {
                    Ok(lines) => lines,
                    Err(e) => {
                        let _ = sender
                            .send(Err(Status::from(ContributionError::Database(e))))
                            .await;
                        return;
                    }
                };
                let full = lines.len() as i64 == STREAM_BATCH;
                after = lines.last().map(store::LineRow::key);
                for line in &lines {
                    if sender.send(Ok(present::line(line))).await.is_err() {
                        return;
                    }
                }
                if !full {
                    return;
                }
            }
        });
        Ok(ReceiverStream::new(receiver))
    }
}
