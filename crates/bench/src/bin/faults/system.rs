//! The system under test: the four services as processes (activation
//! reaching card-issuance through a proxy that can freeze), the Postgres
//! cluster they share, and whether every instance answers SERVING.

use std::{
    path::PathBuf,
    process::Command,
    time::{Duration, Instant},
};

use devpki::channel::CallerChannel;
use socsec_bench::services::{self, Launch, Services};
use socsec_proto::activation::v1::activation_service_client::ActivationServiceClient;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::{cluster::Cluster, proxy::Proxy};

/// The Postgres cluster, to restart it.
pub struct Postgres {
    pub pg_ctl: PathBuf,
    pub data: PathBuf,
    /// Run `pg_ctl` as this user (the cluster's owner), when not ourselves.
    pub owner: Option<String>,
}

impl Postgres {
    /// `pg_ctl restart -m <mode>`, waiting until it accepts connections;
    /// whether it did.
    pub fn restart(&self, mode: &str) -> bool {
        let mut command = match &self.owner {
            Some(owner) => {
                let mut c = Command::new("runuser");
                c.args(["-u", owner, "--"]).arg(&self.pg_ctl);
                c
            }
            None => Command::new(&self.pg_ctl),
        };
        command
            .arg("-D")
            .arg(&self.data)
            .args(["-m", mode, "-w", "-t", "60", "restart"])
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

pub struct System {
    pub services: Services,
    pub proxy: Proxy,
    pub postgres: Option<Postgres>,
    pub database_url: String,
    /// Two instances of every service (`--cluster`).
    pub doubled: bool,
    /// The Patroni cluster (`--cluster`).
    pub cluster: Option<Cluster>,
}

impl System {
    /// Starts the services of `bin_dir` against `database_url`, activation
    /// reaching card-issuance through a proxy.
    /// With `doubled`, two instances of every service, callers balancing
    /// over both (no proxy in between).
    pub async fn start(
        bin_dir: PathBuf,
        database_url: String,
        (postgres, cluster): (Option<Postgres>, Option<Cluster>),
        log_dir: PathBuf,
    ) -> Self {
        let mut services = Services::prepare(Launch {
            bin_dir,
            database_url: database_url.clone(),
            callers: crate::seed::callers(),
            log_dir,
        });
        let cards_port = services.instances[services.index("card-issuance")].port;
        let proxy = Proxy::start(([127, 0, 0, 1], cards_port).into()).await;
        let doubled = cluster.is_some();
        if doubled {
            services.double();
        } else {
            services.activation_to_cards = proxy.url();
        }
        services.start_all();
        for instance in &services.instances {
            services.serving(&instance.url()).await;
        }
        Self {
            services,
            proxy,
            postgres,
            database_url,
            doubled,
            cluster,
        }
    }

    /// Clients of every running activation instance (doubled: one client
    /// balancing over both).
    pub fn activation_clients(&self) -> Vec<ActivationServiceClient<CallerChannel>> {
        if self.doubled {
            return vec![ActivationServiceClient::new(
                self.services.channel(&self.services.activation),
            )];
        }
        self.services
            .instances
            .iter()
            .filter(|i| i.name == "activation" && i.child.is_some())
            .map(|i| ActivationServiceClient::new(self.services.channel(&i.url())))
            .collect()
    }

    /// Waits until every running instance answers SERVING, for at most
    /// `patience`; how long that took, or `None` if some never did.
    pub async fn wait_serving(&self, patience: Duration) -> Option<Duration> {
        let started = Instant::now();
        let channels: Vec<(String, CallerChannel)> = self
            .services
            .instances
            .iter()
            .filter(|i| i.child.is_some())
            .map(|i| {
                (
                    format!("{} :{}", i.name, i.port),
                    self.services.channel(&i.url()),
                )
            })
            .collect();
        let mut waiting: Vec<usize> = (0..channels.len()).collect();
        while started.elapsed() < patience {
            let mut still = Vec::new();
            for i in waiting {
                if services::health(&channels[i].1).await != Some(ServingStatus::Serving) {
                    still.push(i);
                }
            }
            waiting = still;
            if waiting.is_empty() {
                return Some(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let names: Vec<&str> = waiting.iter().map(|i| channels[*i].0.as_str()).collect();
        println!("  not SERVING after {patience:?}: {}", names.join(", "));
        None
    }
}
