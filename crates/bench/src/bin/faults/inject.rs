//! Doing each fault to the running system, and when: the instant it began
//! and the instant it was healed (the process started again, SIGCONT, the
//! session ended, the proxy forwarding again), as the journal counts time.

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

use crate::{
    cluster::{self, Cluster},
    journal::Journal,
    plan::{Fault, Planned},
    system::System,
    workload::Load,
};

/// When a fault began and was healed, and what was seen meanwhile.
pub struct Timeline {
    pub injected: Duration,
    pub healed: Duration,
    /// Something measured along the way (a reconnection, a restart's length).
    pub note: String,
}

/// How long the load runs with two activation instances before one is killed.
const BOTH_BEFORE_KILL: Duration = Duration::from_secs(3);

/// Does `planned` to `system` under `load`.
pub async fn inject(system: &mut System, load: &Load, planned: &Planned) -> Timeline {
    let journal: &Journal = &load.journal;
    let hold = planned.hold;
    let mut note = String::new();
    let injected;
    match planned.fault {
        Fault::Kill(name) => {
            let i = system.services.index(name);
            injected = journal.now();
            system.services.kill(i);
            tokio::time::sleep(hold).await;
            system.services.start_instance(i);
        }
        Fault::Freeze(name) => {
            let i = system.services.index(name);
            injected = journal.now();
            system.services.signal(i, "STOP");
            tokio::time::sleep(hold).await;
            system.services.signal(i, "CONT");
        }
        Fault::PostgresRestart(mode) => {
            injected = journal.now();
            note = match &system.postgres {
                Some(postgres) => {
                    let started = Instant::now();
                    // pg_ctl waits for the restart: not on a thread the load needs.
                    let restarted = tokio::task::block_in_place(|| postgres.restart(mode));
                    format!(
                        "pg_ctl restart took {:.1} s{}",
                        started.elapsed().as_secs_f64(),
                        if restarted { "" } else { " and failed" }
                    )
                }
                None => "skipped: the cluster is not ours to restart".into(),
            };
        }
        Fault::IdleTransaction => {
            let mut session = PgConnection::connect(&system.database_url)
                .await
                .expect("a session to hold a transaction open");
            sqlx::query("BEGIN")
                .execute(&mut session)
                .await
                .expect("BEGIN");
            let xid: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text")
                .fetch_one(&mut session)
                .await
                .expect("a transaction id");
            injected = journal.now();
            tokio::time::sleep(hold).await;
            let ended = sqlx::query("ROLLBACK").execute(&mut session).await.is_ok();
            note = format!(
                "transaction {xid} open {:.1} s{}",
                (journal.now() - injected).as_secs_f64(),
                if ended { "" } else { " (ended by the server)" }
            );
        }
        Fault::IdentityDown => {
            let i = system.services.index("identity");
            injected = journal.now();
            // A graceful stop drains for a while: not on a thread the load needs.
            tokio::task::block_in_place(|| system.services.stop(i));
            tokio::time::sleep(hold).await;
            system.services.start_instance(i);
        }
        Fault::HalfOpenStream => {
            let frozen_at = Instant::now();
            injected = journal.now();
            system.proxy.freeze();
            tokio::time::sleep(hold).await;
            system.proxy.thaw();
            note = match system.proxy.accepted_after(frozen_at).first() {
                Some(at) => format!(
                    "activation opened a new connection {:.1} s after the freeze",
                    (*at - frozen_at).as_secs_f64()
                ),
                None => "activation opened no new connection while frozen".into(),
            };
        }
        Fault::TwoActivations => {
            let second = system.services.add_instance("activation");
            if system.wait_serving(Duration::from_secs(60)).await.is_none() {
                note = "the second activation instance never answered SERVING; ".into();
            }
            load.route_activation(system.activation_clients());
            tokio::time::sleep(BOTH_BEFORE_KILL).await;
            let first = system.services.index("activation");
            injected = journal.now();
            system.services.kill(first);
            tokio::time::sleep(hold).await;
            system.services.start_instance(first);
            note.push_str(&format!(
                "instances on ports {} (killed) and {}",
                system.services.instances[first].port, system.services.instances[second].port
            ));
        }
        Fault::PrimaryKilled => {
            let (at, healed_at, text) = kill_primary(&system.database_url, journal).await;
            note = text;
            return Timeline {
                injected: at,
                healed: healed_at,
                note,
            };
        }
        Fault::PatroniKilled | Fault::StandbyKilled | Fault::EtcdLeaderKilled => {
            let cluster = system
                .cluster
                .as_ref()
                .expect("a cluster fault on the cluster");
            let (at, text) =
                kill_cluster_process(cluster, &system.database_url, planned.fault, journal).await;
            injected = at;
            note = text;
        }
        Fault::PrimaryPartitioned => {
            let cluster = system
                .cluster
                .as_ref()
                .expect("a cluster fault on the cluster");
            let (_, name) = cluster::node_dir(&system.database_url, false).await;
            injected = journal.now();
            let cut = cluster.partition(&name, true);
            tokio::time::sleep(hold).await;
            let healed = cluster.partition(&name, false);
            let (_, now) = tokio::task::block_in_place(|| cluster.state());
            note = match (cut, healed) {
                (Ok(()), Ok(())) => format!(
                    "{name} cut off for {} s; at the heal: {now}",
                    hold.as_secs()
                ),
                (Err(e), _) | (_, Err(e)) => format!("the partition of {name} failed: {e}"),
            };
        }
        Fault::ClusterRestarted => {
            let cluster = system
                .cluster
                .as_ref()
                .expect("a cluster fault on the cluster");
            let started = Instant::now();
            injected = journal.now();
            note = match cluster.restart(Duration::from_secs(300)).await {
                Ok(()) => format!(
                    "stopped and ready again after {:.1} s",
                    started.elapsed().as_secs_f64()
                ),
                Err(e) => e,
            };
        }
        Fault::InstancesKilled => {
            let first: Vec<usize> = socsec_bench::services::NAMES
                .iter()
                .map(|name| system.services.index(name))
                .collect();
            injected = journal.now();
            for i in &first {
                system.services.kill(*i);
            }
            tokio::time::sleep(hold).await;
            for i in &first {
                system.services.start_instance(*i);
            }
            let ports: Vec<String> = first
                .iter()
                .map(|i| system.services.instances[*i].port.to_string())
                .collect();
            note = format!("killed the instances on ports {}", ports.join(", "));
        }
    }
    Timeline {
        injected,
        healed: journal.now(),
        note,
    }
}

/// `kill -9` of the postmaster of the primary `database_url` leads to
/// (through HAProxy), then a write probe every 100 ms through the same
/// address: `SELECT txid_current()` on a new connection, which commits only
/// on a primary and, with synchronous replication, only once a standby has
/// it. The instant of the kill, of the first probe that succeeded, and a
/// note naming both nodes.
async fn kill_primary(database_url: &str, journal: &Journal) -> (Duration, Duration, String) {
    let mut conn = PgConnection::connect(database_url)
        .await
        .expect("a connection to the primary");
    let (data_dir, port, sync, standbys): (String, i32, i64, i64) = sqlx::query_as(
        "SELECT current_setting('data_directory'), inet_server_port(), \
                (SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'), \
                (SELECT count(*) FROM pg_stat_replication)",
    )
    .fetch_one(&mut conn)
    .await
    .expect("the primary's data directory");
    drop(conn);
    let pid_file = std::path::Path::new(&data_dir).join("postmaster.pid");
    let pid = std::fs::read_to_string(&pid_file)
        .expect("the primary's postmaster.pid (run as root or as the postgres user)")
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let started = Instant::now();
    let injected = journal.now();
    socsec_bench::services::signal(pid.parse().expect("a pid"), "KILL");
    let mut probes = 0;
    loop {
        probes += 1;
        let attempt = async {
            let mut conn = PgConnection::connect(database_url).await?;
            let (_, port): (i64, i32) =
                sqlx::query_as("SELECT txid_current()::text::bigint, inet_server_port()")
                    .fetch_one(&mut conn)
                    .await?;
            Ok::<i32, sqlx::Error>(port)
        };
        if let Ok(Ok(new_port)) = tokio::time::timeout(Duration::from_secs(2), attempt).await {
            let healed = journal.now();
            let note = format!(
                "postmaster {pid} of the primary on port {port} killed ({standbys} standbys streaming, \
                 {sync} of them synchronous); a write through HAProxy committed again {:.1} s later, \
                 on the node on port {new_port} ({probes} probes)",
                started.elapsed().as_secs_f64()
            );
            return (injected, healed, note);
        }
        if started.elapsed() > Duration::from_secs(120) {
            return (
                injected,
                journal.now(),
                format!(
                    "postmaster {pid} on port {port} killed ({standbys} standbys streaming, {sync} \
                     synchronous); no write committed within 120 s"
                ),
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `kill -9` of the primary's Patroni, of the synchronous standby's
/// postmaster or of the etcd member that leads; waits until it runs again
/// (the supervisor or, for a postmaster, its Patroni starts it): the
/// instant of the kill and a note of what was killed and how long it was
/// gone.
async fn kill_cluster_process(
    cluster: &Cluster,
    database_url: &str,
    fault: Fault,
    journal: &Journal,
) -> (Duration, String) {
    let (what, pid, again): (String, u32, Box<dyn Fn() -> Option<u32> + Send + Sync>) = match fault
    {
        Fault::PatroniKilled => {
            let (_, name) = cluster::node_dir(database_url, false).await;
            // Patroni starts its postmaster detached (not its child):
            // its own pid is the one the supervisor noted.
            let patroni = format!("patroni{}", name.trim_start_matches("pg"));
            let pid = cluster.pid(&patroni).expect("the primary's Patroni's pid");
            let pids = cluster.dir.join("pids").join(&patroni);
            (
                format!("Patroni {pid} of the primary {name}"),
                pid,
                Box::new(move || std::fs::read_to_string(&pids).ok()?.trim().parse().ok()),
            )
        }
        Fault::StandbyKilled => {
            let (dir, name) = cluster::node_dir(database_url, true).await;
            let postmaster = cluster::postmaster(&dir);
            (
                format!("postmaster {postmaster} of the synchronous standby {name}"),
                postmaster,
                Box::new(move || {
                    std::fs::read_to_string(dir.join("postmaster.pid"))
                        .ok()?
                        .lines()
                        .next()?
                        .trim()
                        .parse()
                        .ok()
                }),
            )
        }
        _ => {
            let name = cluster::etcd_leader();
            let pid = cluster.pid(&name).expect("the etcd member's pid");
            let pids = cluster.dir.join("pids").join(&name);
            (
                format!("etcd member {name} ({pid}), the leader"),
                pid,
                Box::new(move || std::fs::read_to_string(&pids).ok()?.trim().parse().ok()),
            )
        }
    };
    let started = Instant::now();
    let injected = journal.now();
    socsec_bench::services::signal(pid, "KILL");
    while again().is_none_or(|p| p == pid) && started.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let note = match again() {
        Some(p) if p != pid => format!(
            "{what} killed; running again (pid {p}) {:.1} s later",
            started.elapsed().as_secs_f64()
        ),
        _ => format!("{what} killed; not running again within 120 s"),
    };
    (injected, note)
}

/// Puts back what a fault added, once its invariants are checked: the
/// second activation instance is stopped and partners call the first only.
pub async fn tidy(system: &mut System, load: &Load, planned: &Planned) {
    if let Fault::TwoActivations = planned.fault {
        let first = system.services.index("activation");
        let extra: Vec<usize> = (0..system.services.instances.len())
            .filter(|i| *i != first && system.services.instances[*i].name == "activation")
            .collect();
        load.route_activation(vec![
            socsec_proto::activation::v1::activation_service_client::ActivationServiceClient::new(
                system.services.channel(&system.services.activation),
            ),
        ]);
        for i in extra {
            tokio::task::block_in_place(|| system.services.stop(i));
        }
    }
}
