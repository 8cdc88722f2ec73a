//! Doing each fault to the running system, and when: the instant it began
//! and the instant it was healed (the process started again, SIGCONT, the
//! session ended, the proxy forwarding again), as the journal counts time.

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

use crate::{
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
    }
    Timeline {
        injected,
        healed: journal.now(),
        note,
    }
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
