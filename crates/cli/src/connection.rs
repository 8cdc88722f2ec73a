//! How the CLI reaches the services: their addresses, who it calls as, and
//! the credential each request carries.

use std::path::PathBuf;

use clap::Args;
use devpki::channel::{AsCaller, CallerChannel};
use socsec_proto::{
    activation::v1::activation_service_client::ActivationServiceClient,
    card::v1::card_service_client::CardServiceClient,
    contribution::v1::contribution_service_client::ContributionServiceClient,
    identity::v1::identity_service_client::IdentityServiceClient,
};
use tonic::{Request, Status, metadata::MetadataValue};

/// Why a command did not do what it was asked.
pub enum Failure {
    /// A service refused or failed the call.
    Call(Status),
    /// The command line or the local setup is wrong.
    Usage(String),
}

impl From<Status> for Failure {
    fn from(status: Status) -> Self {
        Self::Call(status)
    }
}

pub type Outcome = Result<(), Failure>;

// Each service's address is one URL, or its instances' URLs separated by
// commas (calls are spread over those answering their health check).
#[derive(Args, Clone)]
pub struct Connection {
    /// Identity's URL (several instances: separated by commas).
    #[arg(
        long,
        env = "SOCSEC_IDENTITY_URL",
        default_value = "https://127.0.0.1:50051",
        global = true
    )]
    pub identity: String,
    /// Card-issuance's URL (several instances: separated by commas).
    #[arg(
        long,
        env = "SOCSEC_CARDS_URL",
        default_value = "https://127.0.0.1:50052",
        global = true
    )]
    pub cards: String,
    /// Activation's URL (several instances: separated by commas).
    #[arg(
        long,
        env = "SOCSEC_ACTIVATION_URL",
        default_value = "https://127.0.0.1:50053",
        global = true
    )]
    pub activation: String,
    /// Contribution's URL (several instances: separated by commas).
    #[arg(
        long,
        env = "SOCSEC_CONTRIBUTION_URL",
        default_value = "https://127.0.0.1:50054",
        global = true
    )]
    pub contribution: String,
    /// Call as KIND:CODE (operator:OP0001, bank_outlet:ICBC-0101, hospital:H-001, …).
    #[arg(
        long = "as",
        env = "SOCSEC_CALLER",
        default_value = "operator:OP0001",
        global = true
    )]
    pub caller: String,
    /// Call as the person signed in with this token (from `person sign-in`).
    #[arg(long, env = "SOCSEC_TOKEN", global = true)]
    pub token: Option<String>,
    /// Directory with `internal-ca.pem` (the CA of the services' certificates)
    /// and the caller's certificate, `<kind>-<code>.pem` and
    /// `<kind>-<code>-key.pem` (as `socsec certs` makes them).
    #[arg(long, env = "SOCSEC_CERTS", default_value = ".data/pki", global = true)]
    pub certs: PathBuf,
    /// Directory with the development CAs' keys, for `socsec certs`
    /// (default: `<certs>-ca-keys` beside the certificates directory).
    #[arg(long, env = "SOCSEC_CA_KEYS", global = true)]
    pub ca_keys: Option<PathBuf>,
    /// Call over plaintext with the development credential (only services
    /// configured with `plaintext` and `dev_credentials` accept it).
    #[arg(long, env = "SOCSEC_CLI_PLAINTEXT", global = true)]
    pub plaintext: bool,
}

impl Connection {
    /// A channel to `url` calling each request over mutual TLS with the
    /// certificate of the caller it names (from `--certs`).
    pub(crate) async fn channel(&self, url: &str) -> Result<CallerChannel, Failure> {
        let endpoints = devpki::channel::endpoints(url).map_err(Failure::Usage)?;
        if self.plaintext {
            let channel = socsec_core::balance::channel(endpoints, None);
            return Ok(CallerChannel::new(move |_| Ok(channel.clone())));
        }
        devpki::channel::from_dir(&self.certs, url).map_err(|e| {
            Failure::Usage(format!(
                "{e} (make development certificates with `socsec certs`, or give --certs)"
            ))
        })
    }

    pub async fn identity(&self) -> Result<IdentityServiceClient<CallerChannel>, Failure> {
        Ok(IdentityServiceClient::new(
            self.channel(&self.identity).await?,
        ))
    }

    pub async fn cards(&self) -> Result<CardServiceClient<CallerChannel>, Failure> {
        Ok(CardServiceClient::new(self.channel(&self.cards).await?))
    }

    pub async fn activation(&self) -> Result<ActivationServiceClient<CallerChannel>, Failure> {
        Ok(ActivationServiceClient::new(
            self.channel(&self.activation).await?,
        ))
    }

    pub async fn contribution(&self) -> Result<ContributionServiceClient<CallerChannel>, Failure> {
        Ok(ContributionServiceClient::new(
            self.channel(&self.contribution).await?,
        ))
    }

    /// `message` with this connection's credential.
    pub fn request<T>(&self, message: T) -> Request<T> {
        self.request_as(&self.caller, message)
    }

    pub fn request_as<T>(&self, caller: &str, message: T) -> Request<T> {
        let mut request = Request::new(message);
        let metadata = request.metadata_mut();
        match &self.token {
            Some(token) => {
                if let Ok(value) = MetadataValue::try_from(format!("Bearer {token}")) {
                    metadata.insert("authorization", value);
                }
            }
            None if self.plaintext => {
                if let Ok(value) = MetadataValue::try_from(caller) {
                    metadata.insert(socsec_core::caller::DEV_CALLER_HEADER, value);
                }
            }
            None => {
                request.extensions_mut().insert(AsCaller(caller.to_owned()));
            }
        }
        request
    }
}

/// The fixtures (the demo's steps) call with this connection's credential.
impl socsec_fixtures::Credentials for Connection {
    fn request<T>(&self, message: T) -> Request<T> {
        Connection::request(self, message)
    }
}
