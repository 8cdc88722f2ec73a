//! The Patroni cluster of `deploy/cluster.sh --database-only`, for the
//! cluster's faults: where it stands (`deploy/lib/cluster-state.py`), its
//! processes (each node's postmaster and Patroni, the etcd members, the
//! script that supervises them all), and a restart of the whole of it.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use sqlx::{Connection, PgConnection};

/// The cluster as `deploy/cluster.sh` left it in its directory.
pub struct Cluster {
    /// `SOCSEC_CLUSTER_DIR`: `cluster.env`, `cluster.pid`, `pids/`, `pg<n>/`.
    pub dir: PathBuf,
    /// `deploy/cluster.sh`, to start the cluster again.
    pub script: PathBuf,
}

impl Cluster {
    /// Each node's Patroni REST port, from `cluster.env`.
    fn rest_ports(&self) -> Vec<String> {
        let env = std::fs::read_to_string(self.dir.join("cluster.env")).unwrap_or_default();
        env.lines()
            .find_map(|l| l.strip_prefix("SOCSEC_CLUSTER_PATRONI="))
            .map(|hosts| {
                hosts
                    .split(',')
                    .filter_map(|h| h.rsplit(':').next())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_else(|| vec!["8101".into(), "8102".into(), "8103".into()])
    }

    /// Whether the cluster is whole (three nodes running, both standbys
    /// streaming, one synchronous), and the line saying where it stands.
    pub fn state(&self) -> (bool, String) {
        let script = self
            .script
            .parent()
            .unwrap_or(Path::new("."))
            .join("lib/cluster-state.py");
        match Command::new("python3")
            .arg(script)
            .args(self.rest_ports())
            .stderr(Stdio::null())
            .output()
        {
            Ok(out) => (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).trim().to_owned(),
            ),
            Err(e) => (false, format!("cluster-state.py: {e}")),
        }
    }

    /// Waits until the cluster is whole, for at most `patience`: how long
    /// it took, or `None` and where it stood.
    pub async fn wait_whole(&self, patience: Duration) -> Result<Duration, String> {
        let started = Instant::now();
        loop {
            let (whole, line) = tokio::task::block_in_place(|| self.state());
            if whole {
                return Ok(started.elapsed());
            }
            if started.elapsed() > patience {
                return Err(line);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Cuts node `name` (`pg2`) off from etcd and from the other nodes and
    /// the services (`cut`), or lets it back: its paths through HAProxy
    /// disabled, their connections ended, through HAProxy's runtime API.
    pub fn partition(&self, name: &str, cut: bool) -> Result<(), String> {
        let n = name.trim_start_matches("pg");
        let mut paths: Vec<String> = (1..=3).map(|k| format!("etcd_{name}_{k}/etcd")).collect();
        paths.push(format!("pg{n}_path/pg"));
        let commands: Vec<String> = paths
            .iter()
            .map(|path| {
                if cut {
                    format!("disable server {path}; shutdown sessions server {path}")
                } else {
                    format!("enable server {path}")
                }
            })
            .collect();
        let answer = self.haproxy(&commands.join("; "))?;
        if answer.lines().any(|l| !l.trim().is_empty()) {
            return Err(format!("HAProxy answered: {}", answer.trim()));
        }
        Ok(())
    }

    /// One line to HAProxy's runtime API (`run/haproxy.sock`); its answer.
    fn haproxy(&self, command: &str) -> Result<String, String> {
        use std::io::{Read, Write};
        let path = self.dir.join("run/haproxy.sock");
        let mut socket = std::os::unix::net::UnixStream::connect(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        socket
            .write_all(format!("{command}\n").as_bytes())
            .map_err(|e| e.to_string())?;
        let mut answer = String::new();
        socket
            .read_to_string(&mut answer)
            .map_err(|e| e.to_string())?;
        Ok(answer)
    }

    /// The pid a process of the cluster noted in `pids/<name>`.
    pub fn pid(&self, name: &str) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("pids").join(name))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The pid of the supervising script.
    fn script_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("cluster.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Stops the whole cluster (SIGTERM to its script, which stops Patroni,
    /// its Postgres and etcd in order) and starts it again with
    /// `--database-only`; returns once the new one says it is ready, or
    /// after `patience` with what went wrong.
    pub async fn restart(&self, patience: Duration) -> Result<(), String> {
        let pid = self
            .script_pid()
            .ok_or("no cluster.pid: is the cluster running?")?;
        socsec_bench::services::signal(pid, "TERM");
        let started = Instant::now();
        while Path::new(&format!("/proc/{pid}")).exists() {
            if started.elapsed() > patience {
                return Err(format!(
                    "the cluster (pid {pid}) did not stop within {patience:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("logs/cluster-restart.log"))
            .map_err(|e| e.to_string())?;
        Command::new(&self.script)
            .arg("--database-only")
            .env("SOCSEC_CLUSTER_DIR", &self.dir)
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{}: {e}", self.script.display()))?;
        while !self.dir.join("cluster.env").exists() {
            if started.elapsed() > patience {
                return Err(format!(
                    "the cluster was not ready {patience:?} after the stop; see {}",
                    self.dir.join("logs/cluster-restart.log").display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
}

/// A node of the cluster, as its Postgres tells through `database_url`:
/// the primary's data directory and name, or those of the standby the
/// primary names synchronous (any standby if none is: the check after the
/// fault says so).
pub async fn node_dir(database_url: &str, synchronous_standby: bool) -> (PathBuf, String) {
    let mut conn = PgConnection::connect(database_url)
        .await
        .expect("a connection to the primary");
    let (data_dir, sync): (String, Option<String>) = sqlx::query_as(
        "SELECT current_setting('data_directory'), \
                (SELECT application_name FROM pg_stat_replication \
                 ORDER BY sync_state = 'sync' DESC LIMIT 1)",
    )
    .fetch_one(&mut conn)
    .await
    .expect("the primary's data directory");
    let primary = PathBuf::from(data_dir);
    if !synchronous_standby {
        let name = primary
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        return (primary, name);
    }
    let sync = sync.expect("a standby streaming from the primary");
    (primary.with_file_name(&sync), sync)
}

/// The postmaster's pid in `data_dir`.
pub fn postmaster(data_dir: &Path) -> u32 {
    std::fs::read_to_string(data_dir.join("postmaster.pid"))
        .expect("postmaster.pid (run as root or as the postgres user)")
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .expect("a pid")
}

/// The etcd member that leads (its client port answers with its own id as
/// leader), by its name in `pids/` (`etcd1` …); `etcd1` if none says.
pub fn etcd_leader() -> String {
    for (n, port) in [(1, 2479), (2, 2481), (3, 2483)] {
        let Ok(out) = Command::new("curl")
            .args(["-s", "-m", "2", "-X", "POST", "-d", "{}"])
            .arg(format!("http://127.0.0.1:{port}/v3/maintenance/status"))
            .output()
        else {
            continue;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let field = |key: &str| {
            text.split(&format!("\"{key}\":\""))
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .map(str::to_owned)
        };
        if let (Some(me), Some(leader)) = (field("member_id"), field("leader"))
            && me == leader
        {
            return format!("etcd{n}");
        }
    }
    "etcd1".into()
}
