//! The four services as release binaries on free ports, over mutual TLS
//! with a development CA, and who the benchmark and the fault suite call
//! them as. Each instance is its own process, so it can be stopped,
//! killed, frozen and started again; activation can run a second instance
//! against the same database.

use std::{
    collections::BTreeSet,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use devpki::channel::{AsCaller, CallerChannel};
use socsec_fixtures::{Credentials, eventually};
use tonic::Request;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// The callers the benchmark calls as.
pub const CALLERS: [&str; 5] = [
    "operator:BENCH",
    "bank_outlet:ICBC-0101",
    "hospital:H-001",
    "service:bench",
    "portal:BENCH",
];

/// The bureau operator who sets everything up.
pub const OPERATOR: As = As("operator:BENCH");

/// The services, in the order they are started.
pub const NAMES: [&str; 4] = ["identity", "card-issuance", "activation", "contribution"];

/// A caller (`KIND:CODE`), as the fixtures call.
pub struct As(pub &'static str);

impl Credentials for As {
    fn request<T>(&self, message: T) -> Request<T> {
        as_caller(self.0, message)
    }
}

/// `message` sent as `caller` (`KIND:CODE`), with that caller's certificate.
pub fn as_caller<T>(caller: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.extensions_mut().insert(AsCaller(caller.to_owned()));
    request
}

/// A port for an instance to listen on: free now, never handed out twice
/// by this process (two instances given one port made each answer for the
/// other: seen in CI), and below Linux's ephemeral range (32768–60999), so
/// no outgoing connection takes it before the instance binds it.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut given = GIVEN.lock().expect("the ports given");
    loop {
        let port = rand::random_range(20_000..32_000);
        if !given.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.insert(port);
            return port;
        }
    }
}

fn url(port: u16) -> String {
    format!("https://127.0.0.1:{port}")
}

/// What the services are started with.
pub struct Launch {
    /// Where the release binaries are.
    pub bin_dir: PathBuf,
    /// The database every service keeps its schema in.
    pub database_url: String,
    /// Who will call: a certificate is issued for each (`KIND:CODE`).
    pub callers: Vec<String>,
    /// Where each instance's log goes (`<name>-<port>.log`, appended).
    pub log_dir: PathBuf,
}

/// One running (or stopped) process of a service.
pub struct Instance {
    pub name: &'static str,
    pub port: u16,
    pub child: Option<Child>,
}

impl Instance {
    pub fn url(&self) -> String {
        url(self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

/// The running services; stopped (SIGTERM, then waited for) when dropped.
pub struct Services {
    launch: Launch,
    /// The development CA and the certificates of the services and of the
    /// callers.
    pki: PathBuf,
    /// Keeps `pki` until the last `Services` of the process ends (after
    /// its instances have stopped: fields drop after `drop`).
    _pki_dir: Arc<PkiDir>,
    /// Every instance started; the first four are [`NAMES`] in order.
    pub instances: Vec<Instance>,
    /// Where activation reaches card-issuance (directly, unless a proxy
    /// stands between them).
    pub activation_to_cards: String,
    pub identity: String,
    pub cards: String,
    pub activation: String,
    pub contribution: String,
}

impl Drop for Services {
    fn drop(&mut self) {
        for instance in &self.instances {
            if let Some(pid) = instance.pid() {
                // A frozen process must run again to hear SIGTERM.
                signal(pid, "CONT");
                signal(pid, "TERM");
            }
        }
        for instance in &mut self.instances {
            if let Some(mut child) = instance.child.take() {
                let _ = child.wait();
            }
        }
    }
}

/// The benchmark's certificates: one directory per process, shared by
/// every [`Services`] alive at once and removed when the last one ends.
struct PkiDir(PathBuf);

impl PkiDir {
    fn shared() -> Arc<Self> {
        static CURRENT: Mutex<Weak<PkiDir>> = Mutex::new(Weak::new());
        let mut current = CURRENT.lock().expect("the PKI directory's lock");
        if let Some(dir) = current.upgrade() {
            return dir;
        }
        let dir = Arc::new(Self(
            std::env::temp_dir().join(format!("socsec-bench-pki-{}", std::process::id())),
        ));
        *current = Arc::downgrade(&dir);
        dir
    }
}

impl Drop for PkiDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Sends `kill -SIGNAL pid`.
pub fn signal(pid: u32, signal: &str) {
    // Pid 0 is the process group, 1 init: never meant.
    assert!(pid > 1, "refusing to send SIG{signal} to pid {pid}");
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

impl Services {
    /// Starts the four services of `launch.bin_dir`.
    pub fn start(launch: Launch) -> Self {
        let mut services = Self::prepare(launch);
        services.start_all();
        services
    }

    /// The certificates and the ports, nothing started yet: set
    /// [`Self::activation_to_cards`] to put something between activation
    /// and card-issuance, then [`Self::start_all`].
    pub fn prepare(launch: Launch) -> Self {
        let pki_dir = PkiDir::shared();
        let pki = pki_dir.0.clone();
        let dirs = devpki::PkiDirs::new(&pki, None);
        devpki::ensure_development_pki(&dirs, &[]).expect("development certificates");
        for caller in &launch.callers {
            let caller = devpki::Caller::parse(caller).expect("KIND:CODE");
            devpki::issue_into(&dirs, &caller).expect("a caller certificate");
        }
        std::fs::create_dir_all(&launch.log_dir).expect("log directory");
        let instances: Vec<Instance> = NAMES
            .iter()
            .map(|name| Instance {
                name,
                port: free_port(),
                child: None,
            })
            .collect();
        let urls: Vec<String> = instances.iter().map(Instance::url).collect();
        Self {
            launch,
            pki,
            _pki_dir: pki_dir,
            instances,
            activation_to_cards: urls[1].clone(),
            identity: urls[0].clone(),
            cards: urls[1].clone(),
            activation: urls[2].clone(),
            contribution: urls[3].clone(),
        }
    }

    /// A second instance of every service (not started yet), each
    /// service's address becoming both instances' URLs, comma-separated:
    /// the callers (the services too) balance over them. Call before
    /// [`Self::start_all`].
    pub fn double(&mut self) {
        for name in NAMES {
            let first = self.instances[self.index(name)].url();
            self.instances.push(Instance {
                name,
                port: free_port(),
                child: None,
            });
            let both = format!("{first},{}", self.instances.last().expect("pushed").url());
            match name {
                "identity" => self.identity = both,
                "card-issuance" => {
                    self.activation_to_cards = both.clone();
                    self.cards = both;
                }
                "activation" => self.activation = both,
                _ => self.contribution = both,
            }
        }
    }

    /// Starts every instance not running.
    pub fn start_all(&mut self) {
        for i in 0..self.instances.len() {
            if self.instances[i].child.is_none() {
                self.start_instance(i);
            }
        }
    }

    /// The index of the first instance of `name`.
    pub fn index(&self, name: &str) -> usize {
        self.instances
            .iter()
            .position(|i| i.name == name)
            .unwrap_or_else(|| panic!("no service {name}"))
    }

    /// Adds an instance of `name` on a free port (same database, same
    /// settings) and starts it; its index.
    pub fn add_instance(&mut self, name: &'static str) -> usize {
        self.instances.push(Instance {
            name,
            port: free_port(),
            child: None,
        });
        let i = self.instances.len() - 1;
        self.start_instance(i);
        i
    }

    /// Starts instance `i` (again) on its port.
    pub fn start_instance(&mut self, i: usize) {
        let (name, port) = (self.instances[i].name, self.instances[i].port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.launch.log_dir.join(format!("{name}-{port}.log")))
            .expect("a log file");
        let prefix = format!("SOCSEC_{}_", name.to_uppercase().replace('-', "_"));
        let child = Command::new(self.launch.bin_dir.join(name))
            .env("DATABASE_URL", &self.launch.database_url)
            .env(format!("{prefix}LISTEN_ADDR"), format!("127.0.0.1:{port}"))
            .env(
                "SOCSEC_SESSION_TOKEN_SECRET",
                "benchmark-session-secret-of-32-bytes-at-least",
            )
            // Mutual TLS, as deployed.
            .env(
                "SOCSEC_TLS_PARTNER_CA_FILE",
                self.pki.join("partner-ca.pem"),
            )
            .env(
                "SOCSEC_TLS_INTERNAL_CA_FILE",
                self.pki.join("internal-ca.pem"),
            )
            .env(
                "SOCSEC_TLS_PARTNER_CRL_FILE",
                self.pki.join("partner-ca.crl.pem"),
            )
            .env(
                "SOCSEC_TLS_INTERNAL_CRL_FILE",
                self.pki.join("internal-ca.crl.pem"),
            )
            .env("SOCSEC_TLS_CERT_FILE", self.pki.join(format!("{name}.pem")))
            .env(
                "SOCSEC_TLS_KEY_FILE",
                self.pki.join(format!("{name}-key.pem")),
            )
            .env("SOCSEC_LOG_FILTER", "warn")
            .env("SOCSEC_DATABASE_MAX_CONNECTIONS", "24")
            .env("SOCSEC_ACTIVATION_IDENTITY_URL", &self.identity)
            .env(
                "SOCSEC_ACTIVATION_CARD_ISSUANCE_URL",
                &self.activation_to_cards,
            )
            .env("SOCSEC_CARD_ISSUANCE_IDENTITY_URL", &self.identity)
            .env("SOCSEC_CONTRIBUTION_IDENTITY_URL", &self.identity)
            .stdout(log.try_clone().map_or_else(|_| Stdio::null(), Stdio::from))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        self.instances[i].child = Some(child);
    }

    /// `kill -9` of instance `i`, reaped.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.instances[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM to instance `i`, and waits until it has ended.
    pub fn stop(&mut self, i: usize) {
        if let Some(mut child) = self.instances[i].child.take() {
            signal(child.id(), "TERM");
            let _ = child.wait();
        }
    }

    /// Sends `signal` (`STOP`, `CONT`, …) to instance `i`.
    pub fn signal(&self, i: usize, name: &str) {
        if let Some(pid) = self.instances[i].pid() {
            signal(pid, name);
        }
    }

    /// Where the certificates are.
    pub fn pki(&self) -> &Path {
        &self.pki
    }

    /// A channel to `url` that calls each request over mutual TLS with the
    /// certificate of its caller.
    pub fn channel(&self, url: &str) -> CallerChannel {
        devpki::channel::from_dir(&self.pki, url).expect("the benchmark's certificates")
    }

    /// A channel to the service at `url`, once it answers SERVING.
    pub async fn serving(&self, url: &str) -> CallerChannel {
        let channel = self.channel(url);
        let what = format!("{url} to answer SERVING");
        eventually(&what, Duration::from_secs(30), async || {
            (health(&channel).await == Some(ServingStatus::Serving)).then_some(())
        })
        .await;
        channel
    }
}

/// What the health service on `channel` answers within a second, if it
/// answers at all.
pub async fn health(channel: &CallerChannel) -> Option<ServingStatus> {
    let mut request = Request::new(HealthCheckRequest {
        service: String::new(),
    });
    request.set_timeout(Duration::from_secs(1));
    let answer = tokio::time::timeout(
        Duration::from_secs(1),
        HealthClient::new(channel.clone()).check(request),
    )
    .await
    .ok()?
    .ok()?;
    Some(answer.get_ref().status())
}
