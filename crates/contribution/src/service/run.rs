//! The monthly run: one transaction per region and month (under its
//! advisory lock), which pins the month's rate versions, then books each
//! chunk of enrolments set-based and reports progress as it goes. If the
//! caller stops listening, the run is rolled back.

use platform::{
    auth::Caller,
    idempotency::RequestId,
    mutation::{self, Audit, Effects, Events, Mutation},
};
use prost::Message;
use socsec_proto::contribution::v1 as pb;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::{ContributionService, Result};
use crate::{
    api::present, domain::Money, domain::commands::RunMonth, error::ContributionError, store,
};

/// Enrolments computed per statement of the monthly run.
const RUN_CHUNK: i64 = 200_000;

/// Where a run is, as its client sees it.
#[derive(Clone, Debug, Default)]
pub struct RunProgress {
    pub phase: &'static str,
    pub enrolments_done: i64,
    pub enrolments_total: i64,
    /// Ledger entries written so far (contributions, adjustments, fees).
    pub entries: i64,
    pub adjustments: i64,
    /// Everything written so far.
    pub total: Money,
    pub done: bool,
}

type Progress = mpsc::Sender<Result<pb::RunMonthProgress, Status>>;

impl ContributionService {
    /// Starts the run and streams its progress; the last message is the
    /// finished run (or, for a request id seen before, its stored answer).
    pub fn run_month<R: Message + Send + Sync + 'static>(
        &self,
        caller: Caller,
        request_id: RequestId,
        cmd: RunMonth,
        fingerprint: R,
    ) -> ReceiverStream<Result<pb::RunMonthProgress, Status>> {
        let (sender, receiver) = mpsc::channel(16);
        let service = self.clone();
        self.tasks.spawn(async move {
            let outcome = service
                .run(&caller, &request_id, &cmd, &fingerprint, &sender)
                .await;
            match outcome {
                Ok(done) => {
                    let _ = sender.send(Ok(done)).await;
                }
                Err(ContributionError::CallerWentAway) => {
                    tracing::info!(region = %cmd.region_code, period = %cmd.period, "caller went away; run rolled back");
                }
                Err(e) => {
                    let _ = sender.send(Err(Status::from(e))).await;
                }
            }
        });
        ReceiverStream::new(receiver)
    }

    async fn run(
        &self,
        caller: &Caller,
        request_id: &RequestId,
        cmd: &RunMonth,
        fingerprint: &impl Message,
        progress: &Progress,
    ) -> Result<pb::RunMonthProgress> {
        let region = cmd.region_code.as_str();
        let period = cmd.period;
        let payer = cmd.payer.as_ref();
        let now = self.clock.now();
        let _in_progress = self.run_gauges.started(region);
        let done = mutation::run(
            &self.pool,
            Mutation::new(caller, "RunMonth", request_id),
            fingerprint,
            async |conn| {
                let month = period.first_day();
                store::begin_run(conn, region, month).await?;
                store::pin_rates(conn, region, month, period.year()).await?;
                if let Some(missing) = store::type_without_rates(conn, region, month, payer).await?
                {
                    return Err(ContributionError::RateTableMissing {
                        insurance_type: missing,
                        year: period.year(),
                    });
                }
                let (bounds, total) =
                    store::chunk_bounds(conn, region, month, payer, RUN_CHUNK).await?;
                let mut state = RunProgress {
                    phase: "contributions",
                    enrolments_total: total,
                    ..RunProgress::default()
                };
                self.run_gauges.progress(region, 0, total);
                let _ = progress.send(Ok(present::run_progress(&state))).await;
                let mut after = None;
                for (i, upto) in bounds.iter().enumerate() {
                    let written = store::run_chunk(
                        conn,
                        region,
                        month,
                        payer,
                        after,
                        *upto,
                        request_id.as_str(),
                        now,
                    )
                    .await?;
                    after = Some(*upto);
                    state.entries += written.entries;
                    state.adjustments += written.adjustments;
                    state.total += written.total;
                    state.enrolments_done = if i + 1 == bounds.len() {
                        total
                    } else {
                        total * (i as i64 + 1) / bounds.len() as i64
                    };
                    self.run_gauges
                        .progress(region, state.enrolments_done, total);
                    if progress
                        .send(Ok(present::run_progress(&state)))
                        .await
                        .is_err()
                    {
                        return Err(ContributionError::CallerWentAway);
                    }
                }
                let fees =
                    store::book_service_fees(conn, region, month, payer, request_id.as_str(), now)
                        .await?;
                state.phase = "done";
                state.entries += fees.entries;
                state.total += fees.total;
                state.done = true;
                Ok(Effects::new(
                    present::run_progress(&state),
                    Events::none(),
                    Audit::none(),
                ))
            },
        )
        .await?;
        tracing::info!(region, %period, entries = done.entries, adjustments = done.adjustments, "month run");
        Ok(done)
    }
}
