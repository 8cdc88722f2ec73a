//! Contribution's own metrics: how far the monthly runs are.
//! - `socsec_month_runs_in_progress` — runs being computed now;
//! - `socsec_month_run_enrolments{region}` and
//!   `socsec_month_run_enrolments_done{region}` — the enrolments in scope of
//!   the region's current (or last) run and how many are booked; they stay
//!   at the last run's figures after it ends.

use platform::metrics::Metrics;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{family::Family, gauge::Gauge},
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RegionLabels {
    region: String,
}

/// The monthly runs' gauges (unregistered by default: counted, not served).
#[derive(Clone, Debug, Default)]
pub struct RunGauges {
    in_progress: Gauge,
    enrolments: Family<RegionLabels, Gauge>,
    done: Family<RegionLabels, Gauge>,
}

impl RunGauges {
    pub fn register(metrics: &Metrics) -> Self {
        let gauges = Self::default();
        metrics.register(
            "socsec_month_runs_in_progress",
            "Monthly runs (RunMonth) being computed now",
            gauges.in_progress.clone(),
        );
        metrics.register(
            "socsec_month_run_enrolments",
            "Enrolments in scope of the region's current or last monthly run",
            gauges.enrolments.clone(),
        );
        metrics.register(
            "socsec_month_run_enrolments_done",
            "Enrolments of the region's current or last monthly run booked so far",
            gauges.done.clone(),
        );
        gauges
    }

    /// A run of `region` starts; it counts as in progress until the
    /// returned guard is dropped.
    pub fn started(&self, region: &str) -> RunInProgress {
        self.in_progress.inc();
        self.progress(region, 0, 0);
        RunInProgress(self.in_progress.clone())
    }

    /// `done` of the run's `total` enrolments are booked.
    pub fn progress(&self, region: &str, done: i64, total: i64) {
        let labels = RegionLabels {
            region: region.to_owned(),
        };
        self.enrolments.get_or_create(&labels).set(total);
        self.done.get_or_create(&labels).set(done);
    }
}

/// A run in progress (see [`RunGauges::started`]).
pub struct RunInProgress(Gauge);

impl Drop for RunInProgress {
    fn drop(&mut self) {
        self.0.dec();
    }
}
