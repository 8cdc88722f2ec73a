//! The four services as release binaries on free ports, over mutual TLS
//! with a development CA, and who the benchmark calls them as.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use devpki::channel::{AsCaller, CallerChannel};
use socsec_fixtures::{Credentials, eventually};
use tonic::Request;

use crate::Args;

/// The callers the benchmark calls as.
const CALLERS: [&str; 4] = [
    "operator:BENCH",
    "bank_outlet:ICBC-0101",
    "hospital:H-001",
    "service:bench",
];

/// The bureau operator who sets everything up.
pub const OPERATOR: As = As("operator:BENCH");

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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The running services; stopped (SIGTERM, then waited for) when dropped.
pub struct Services {
    pub children: Vec<Child>,
    /// The development CA and the certificates of the services and of the
    /// benchmark's callers.
    pki: PathBuf,
    pub identity: String,
    pub cards: String,
    pub activation: String,
    pub contribution: String,
}

impl Drop for Services {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
        }
        for child in &mut self.children {
            let _ = child.wait();
        }
    }
}

impl Services {
    /// Starts the services of `args.bin_dir` against `database_url`.
    pub fn start(args: &Args, database_url: &str) -> Self {
        let pki = std::env::temp_dir().join(format!("socsec-bench-pki-{}", std::process::id()));
        devpki::ensure_development_pki(&pki, &[]).expect("development certificates");
        for caller in CALLERS {
            let caller = devpki::Caller::parse(caller).expect("KIND:CODE");
            devpki::issue_into(&pki, &caller).expect("a caller certificate");
        }
        let ports = [free_port(), free_port(), free_port(), free_port()];
        let url = |p: u16| format!("https://127.0.0.1:{p}");
        let children = ["identity", "card-issuance", "activation", "contribution"]
            .iter()
            .zip(ports)
            .map(|(name, port)| {
                let prefix = format!("SOCSEC_{}_", name.to_uppercase().replace('-', "_"));
                Command::new(args.bin_dir.join(name))
                    .env("DATABASE_URL", database_url)
                    .env(format!("{prefix}LISTEN_ADDR"), format!("127.0.0.1:{port}"))
                    .env(
                        "SOCSEC_SESSION_TOKEN_SECRET",
                        "benchmark-session-secret-of-32-bytes-at-least",
                    )
                    // Mutual TLS, as deployed.
                    .env("SOCSEC_TLS_CA_FILE", pki.join("ca.pem"))
                    .env("SOCSEC_TLS_CERT_FILE", pki.join(format!("{name}.pem")))
                    .env("SOCSEC_TLS_KEY_FILE", pki.join(format!("{name}-key.pem")))
                    .env("SOCSEC_LOG_FILTER", "warn")
                    .env("SOCSEC_DATABASE_MAX_CONNECTIONS", "24")
                    .env("SOCSEC_ACTIVATION_IDENTITY_URL", url(ports[0]))
                    .env("SOCSEC_ACTIVATION_CARD_ISSUANCE_URL", url(ports[1]))
                    .env("SOCSEC_CARD_ISSUANCE_IDENTITY_URL", url(ports[0]))
                    .env("SOCSEC_CONTRIBUTION_IDENTITY_URL", url(ports[0]))
                    .stdout(
                        std::fs::File::create(
                            std::env::temp_dir().join(format!("socsec-bench-{name}.log")),
                        )
                        .map(Stdio::from)
                        .unwrap_or_else(|_| Stdio::null()),
                    )
                    .spawn()
                    .unwrap_or_else(|e| panic!("cannot start {name}: {e}"))
            })
            .collect();
        Self {
            children,
            pki,
            identity: url(ports[0]),
            cards: url(ports[1]),
            activation: url(ports[2]),
            contribution: url(ports[3]),
        }
    }

    /// A channel to `url` that calls each request over mutual TLS with the
    /// certificate of its caller.
    fn channel(&self, url: &str) -> CallerChannel {
        devpki::channel::from_dir(&self.pki, url).expect("the benchmark's certificates")
    }

    /// A channel to the service at `url`, once it answers SERVING.
    pub async fn serving(&self, url: &str) -> CallerChannel {
        use tonic_health::pb::{
            HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
        };
        let channel = self.channel(url);
        let mut health = HealthClient::new(channel.clone());
        let what = format!("{url} to answer SERVING");
        eventually(&what, Duration::from_secs(30), async || {
            let answer = health
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .ok()?;
            (answer.get_ref().status() == ServingStatus::Serving).then_some(())
        })
        .await;
        channel
    }
}
