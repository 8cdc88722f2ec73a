//! Activation's own metrics, read from its tables on each scrape:
//! - `socsec_relay_queue_depth{queue="legacy_retirements",state="pending"|"parked"}`
//!   and `socsec_relay_oldest_entry_age_seconds` — the relay that tells
//!   card-issuance about retired old cards (see `relay`);
//! - `socsec_projection_lag_seconds{stream}` — seconds since the last
//!   heartbeat of card-issuance's / identity's stream was applied
//!   (`projection_cursors.caught_up_at`; +Inf before the first), and
//!   `socsec_projection_position{stream}`.

use std::sync::atomic::AtomicU64;

use platform::metrics::Metrics;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{family::Family, gauge::Gauge},
    registry::Unit,
};
use sqlx::PgPool;

use crate::{projection, store};

const QUEUE: &str = "legacy_retirements";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RelayLabels {
    queue: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabels {
    stream: String,
}

type Seconds<L> = Family<L, Gauge<f64, AtomicU64>>;

/// Registers activation's gauges with the service's metrics.
pub fn register(metrics: &Metrics, pool: &PgPool) {
    let depth: Family<QueueLabels, Gauge> = metrics.gauge_family(
        "socsec_relay_queue_depth",
        "Entries of the relay's queue, waiting for delivery (pending) or refused for good (parked)",
    );
    let oldest: Seconds<RelayLabels> = Family::default();
    metrics.register_with_unit(
        "socsec_relay_oldest_entry_age",
        "Age of the oldest entry waiting for delivery (0 when none)",
        Unit::Seconds,
        oldest.clone(),
    );
    let lag: Seconds<StreamLabels> = Family::default();
    metrics.register_with_unit(
        "socsec_projection_lag",
        "Seconds since the last heartbeat of the stream was applied to the projection \
         (+Inf before the first)",
        Unit::Seconds,
        lag.clone(),
    );
    let position: Family<StreamLabels, Gauge> = metrics.gauge_family(
        "socsec_projection_position",
        "Position of the last event of the stream applied to the projection",
    );
    let pool = pool.clone();
    metrics.on_scrape("activation", move || {
        let (pool, depth, oldest) = (pool.clone(), depth.clone(), oldest.clone());
        let (lag, position) = (lag.clone(), position.clone());
        async move {
            let queue = store::gauges::relay_queue(&pool).await?;
            for (state, count) in [("pending", queue.pending), ("parked", queue.parked)] {
                depth
                    .get_or_create(&QueueLabels {
                        queue: QUEUE,
                        state,
                    })
                    .set(count);
            }
            oldest
                .get_or_create(&RelayLabels { queue: QUEUE })
                .set(queue.oldest_pending_age_seconds);
            let progress = store::gauges::projection_progress(&pool).await?;
            for stream in [projection::CARD_STREAM, projection::IDENTITY_STREAM] {
                let labels = StreamLabels {
                    stream: stream.to_owned(),
                };
                let row = progress.iter().find(|p| p.stream == stream);
                lag.get_or_create(&labels)
                    .set(row.and_then(|p| p.lag_seconds).unwrap_or(f64::INFINITY));
                position
                    .get_or_create(&labels)
                    .set(row.map_or(0, |p| p.position));
            }
            Ok(())
        }
    });
}
