//! Which faults run, in which order, and for how long: the full suite, or
//! the short subset CI runs.

use std::time::Duration;

/// What is done to the system.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// `kill -9` of the service, started again after the hold.
    Kill(&'static str),
    /// SIGSTOP of the service, SIGCONT after the hold.
    Freeze(&'static str),
    /// `pg_ctl restart -m <mode>`.
    PostgresRestart(&'static str),
    /// A session `BEGIN; SELECT pg_current_xact_id();` left idle for the hold.
    IdleTransaction,
    /// Identity stopped (SIGTERM) for the hold, then started.
    IdentityDown,
    /// The proxy between activation and card-issuance stops forwarding on
    /// the connections it carries, without closing them, for the hold.
    HalfOpenStream,
    /// A second activation instance on the same database, partners' calls
    /// spread over both; the first is killed (`kill -9`) mid-load and
    /// started again after the hold.
    TwoActivations,
    /// On the Patroni cluster (`--cluster`): `kill -9` of the current
    /// primary's postmaster; Patroni promotes the synchronous standby.
    PrimaryKilled,
    /// On the cluster: `kill -9` of one instance of every service, each
    /// started again after the hold; the other instances carry the load.
    InstancesKilled,
    /// On the cluster: `kill -9` of the primary's Patroni; the supervisor
    /// starts it again, and it adopts its running Postgres.
    PatroniKilled,
    /// On the cluster: `kill -9` of the synchronous standby's postmaster;
    /// its Patroni starts it again, the other standby becomes synchronous.
    StandbyKilled,
    /// On the cluster: `kill -9` of the etcd member that leads; two of
    /// three keep the quorum, the supervisor starts it again.
    EtcdLeaderKilled,
    /// On the cluster: the primary cut off from etcd, from the other nodes
    /// and from the services (its paths through HAProxy disabled) for the
    /// hold; it demotes itself, the synchronous standby is promoted, and
    /// once the partition heals the old primary is rewound and rejoins.
    PrimaryPartitioned,
    /// On the cluster, after the failovers above: the whole cluster stopped
    /// (`deploy/cluster.sh` sent SIGTERM) and started again on its data.
    ClusterRestarted,
}

pub struct Planned {
    /// What `--only` names it by.
    pub key: String,
    pub fault: Fault,
    pub hold: Duration,
}

impl Planned {
    /// What the report calls it.
    pub fn title(&self) -> String {
        let s = self.hold.as_secs();
        match self.fault {
            Fault::Kill(name) => format!("kill -9 {name}, restarted after {s} s"),
            Fault::Freeze(name) => format!("SIGSTOP {name} for {s} s, then SIGCONT"),
            Fault::PostgresRestart(mode) => format!("Postgres restart -m {mode}"),
            Fault::IdleTransaction => format!("idle-in-transaction session held {s} s"),
            Fault::IdentityDown => format!("identity down {s} s"),
            Fault::HalfOpenStream => {
                format!("half-open connections activation → card-issuance for {s} s")
            }
            Fault::TwoActivations => {
                format!("two activation instances, one killed mid-load ({s} s down)")
            }
            Fault::PrimaryKilled => "kill -9 of the Postgres primary's postmaster (Patroni)".into(),
            Fault::InstancesKilled => {
                format!("kill -9 of one instance of every service ({s} s down)")
            }
            Fault::PatroniKilled => {
                "kill -9 of the primary's Patroni (started again with its Postgres)".into()
            }
            Fault::StandbyKilled => "kill -9 of the synchronous standby's postmaster".into(),
            Fault::EtcdLeaderKilled => "kill -9 of the etcd member that leads".into(),
            Fault::PrimaryPartitioned => {
                format!("the primary cut off from etcd, the other nodes and the services for {s} s")
            }
            Fault::ClusterRestarted => {
                "the whole cluster stopped and started again, after the failovers".into()
            }
        }
    }
}

/// The faults of the full run or (`short`) of the CI subset, all of them
/// or those whose keys are in `only`.
pub fn plan(short: bool, only: &[String]) -> Vec<Planned> {
    let secs =
        |full: u64, short_hold: u64| Duration::from_secs(if short { short_hold } else { full });
    let mut faults = Vec::new();
    for name in ["identity", "card-issuance", "activation", "contribution"] {
        faults.push((format!("kill-{name}"), Fault::Kill(name), secs(5, 2), true));
    }
    faults.push((
        "freeze-activation".into(),
        Fault::Freeze("activation"),
        secs(20, 5),
        true,
    ));
    faults.push((
        "freeze-contribution".into(),
        Fault::Freeze("contribution"),
        secs(20, 5),
        false,
    ));
    for mode in ["fast", "immediate"] {
        faults.push((
            format!("postgres-{mode}"),
            Fault::PostgresRestart(mode),
            Duration::ZERO,
            true,
        ));
    }
    faults.push((
        "idle-transaction".into(),
        Fault::IdleTransaction,
        secs(60, 10),
        true,
    ));
    faults.push((
        "identity-down".into(),
        Fault::IdentityDown,
        secs(90, 10),
        true,
    ));
    faults.push((
        "half-open-stream".into(),
        Fault::HalfOpenStream,
        secs(30, 25),
        false,
    ));
    faults.push((
        "two-activations".into(),
        Fault::TwoActivations,
        secs(5, 2),
        false,
    ));
    faults
        .into_iter()
        .filter(|(key, _, _, in_short)| {
            if only.is_empty() {
                !short || *in_short
            } else {
                only.contains(key)
            }
        })
        .map(|(key, fault, hold, _)| Planned { key, fault, hold })
        .collect()
}

/// The faults of the cluster run (`--cluster`): the primary, its Patroni,
/// the synchronous standby, etcd's leader, the primary partitioned off,
/// one instance of each service, and last the whole cluster stopped and
/// started on its data.
pub fn plan_cluster(short: bool) -> Vec<Planned> {
    let at_once = |key: &str, fault| Planned {
        key: key.into(),
        fault,
        hold: Duration::ZERO,
    };
    vec![
        at_once("primary-killed", Fault::PrimaryKilled),
        at_once("patroni-killed", Fault::PatroniKilled),
        at_once("standby-killed", Fault::StandbyKilled),
        at_once("etcd-leader-killed", Fault::EtcdLeaderKilled),
        Planned {
            key: "primary-partitioned".into(),
            fault: Fault::PrimaryPartitioned,
            hold: Duration::from_secs(if short { 15 } else { 30 }),
        },
        Planned {
            key: "instances-killed".into(),
            fault: Fault::InstancesKilled,
            hold: Duration::from_secs(if short { 3 } else { 10 }),
        },
        at_once("cluster-restarted", Fault::ClusterRestarted),
    ]
}

/// Every key [`plan`] knows.
pub fn keys() -> Vec<String> {
    plan(false, &[])
        .into_iter()
        .chain(plan_cluster(false))
        .map(|p| p.key)
        .collect()
}
