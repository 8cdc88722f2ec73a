//! The commands, each one RPC (or a short sequence for `demo`).

use clap::{Args, Subcommand, ValueEnum};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use socsec_proto::{
    activation::v1::{self as activation, activation_service_client::ActivationServiceClient},
    audit::v1::{self as audit, audit_service_client::AuditServiceClient},
    card::v1::{self as card, card_service_client::CardServiceClient},
    common::v1::{self as common, Gender, PartnerKind},
    contribution::v1::{
        self as contribution, contribution_service_client::ContributionServiceClient,
    },
    identity::v1::{self as identity, identity_service_client::IdentityServiceClient},
};
use std::path::PathBuf;

use devpki::channel::{AsCaller, CallerChannel};
use tonic::{Request, Status, metadata::MetadataValue, transport::Endpoint};

use crate::output::{Printer, yuan};

pub enum Failure {
    Call(Status),
    Usage(String),
}

impl From<Status> for Failure {
    fn from(status: Status) -> Self {
        Self::Call(status)
    }
}

pub type Outcome = Result<(), Failure>;

#[derive(Args, Clone)]
pub struct Connection {
    #[arg(
        long,
        env = "SOCSEC_IDENTITY_URL",
        default_value = "https://127.0.0.1:50051",
        global = true
    )]
    pub identity: String,
    #[arg(
        long,
        env = "SOCSEC_CARDS_URL",
        default_value = "https://127.0.0.1:50052",
        global = true
    )]
    pub cards: String,
    #[arg(
        long,
        env = "SOCSEC_ACTIVATION_URL",
        default_value = "https://127.0.0.1:50053",
        global = true
    )]
    pub activation: String,
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
    /// Directory with `ca.pem` and the caller's certificate,
    /// `<kind>-<code>.pem` and `<kind>-<code>-key.pem` (as `socsec certs` makes them).
    #[arg(long, env = "SOCSEC_CERTS", default_value = ".data/pki", global = true)]
    pub certs: PathBuf,
    /// Call over plaintext with the development credential (only services
    /// configured with `plaintext` and `dev_credentials` accept it).
    #[arg(long, env = "SOCSEC_CLI_PLAINTEXT", global = true)]
    pub plaintext: bool,
}

impl Connection {
    /// A channel to `url` calling each request over mutual TLS with the
    /// certificate of the caller it names (from `--certs`).
    async fn channel(&self, url: &str) -> Result<CallerChannel, Failure> {
        let endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|e| Failure::Usage(format!("{url}: {e}")))?;
        if self.plaintext {
            let channel = endpoint.connect_lazy();
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

/// A request id: the one given, or a fresh one.
#[derive(Args, Clone)]
pub struct RequestIdArg {
    /// Your transaction serial; a retry with the same one returns the first answer.
    #[arg(long)]
    pub request_id: Option<String>,
}

impl RequestIdArg {
    pub fn get(&self) -> String {
        self.request_id
            .clone()
            .unwrap_or_else(|| format!("cli-{}", uuid::Uuid::now_v7()))
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GenderArg {
    Male,
    Female,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    Bank,
    BankOutlet,
    Hospital,
    Pharmacy,
    HrAgency,
    Employer,
    HotlineCenter,
}

impl KindArg {
    fn proto(self) -> PartnerKind {
        match self {
            Self::Bank => PartnerKind::Bank,
            Self::BankOutlet => PartnerKind::BankOutlet,
            Self::Hospital => PartnerKind::Hospital,
            Self::Pharmacy => PartnerKind::Pharmacy,
            Self::HrAgency => PartnerKind::HrAgency,
            Self::Employer => PartnerKind::Employer,
            Self::HotlineCenter => PartnerKind::HotlineCenter,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum InsuranceArg {
    OldAge,
    Medical,
    Unemployment,
    WorkInjury,
    Maternity,
}

impl InsuranceArg {
    fn proto(self) -> contribution::InsuranceType {
        match self {
            Self::OldAge => contribution::InsuranceType::OldAge,
            Self::Medical => contribution::InsuranceType::Medical,
            Self::Unemployment => contribution::InsuranceType::Unemployment,
            Self::WorkInjury => contribution::InsuranceType::WorkInjury,
            Self::Maternity => contribution::InsuranceType::Maternity,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SchemeArg {
    Employee,
    Flexible,
    Agency,
}

/// A month, as `YYYY-MM`.
fn month(value: &str) -> Result<common::YearMonth, Failure> {
    value
        .split_once('-')
        .and_then(|(y, m)| {
            Some(common::YearMonth {
                year: y.parse().ok()?,
                month: m.parse().ok()?,
            })
        })
        .ok_or_else(|| Failure::Usage(format!("`{value}` is not a month (YYYY-MM)")))
}

/// A date, as `YYYY-MM-DD`.
fn date(value: &str) -> Result<common::Date, Failure> {
    use chrono::Datelike;
    let d = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| Failure::Usage(format!("`{value}` is not a date (YYYY-MM-DD)")))?;
    Ok(common::Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    })
}

/// An amount in yuan, as `1234.56`, in fen.
fn fen(value: &str) -> Result<i64, Failure> {
    let bad = || Failure::Usage(format!("`{value}` is not an amount in yuan (like 1234.56)"));
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 2 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|w| {
            if whole < 0 {
                w.checked_sub(fraction)
            } else {
                w.checked_add(fraction)
            }
        })
        .ok_or_else(bad)
}

#[derive(Subcommand)]
pub enum Command {
    /// Persons' basic information and online password.
    #[command(subcommand)]
    Person(PersonCommand),
    /// Partner registry.
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Cards: apply, issue, receive, lose, replace, cancel, look up.
    #[command(subcommand)]
    Card(CardCommand),
    /// Activate a card through a channel (call `--as` the partner).
    #[command(subcommand)]
    Activate(ActivateCommand),
    /// Whether a card or an old medical insurance card is usable now.
    Eligibility {
        #[arg(long, conflicts_with = "legacy")]
        card: Option<String>,
        #[arg(long)]
        code: Option<String>,
        #[arg(long)]
        legacy: Option<String>,
    },
    /// Received cards whose activation deadline is near.
    Deadlines {
        #[arg(long, default_value_t = 30)]
        within_days: i32,
    },
    /// Contributions: rates, enrolment, wages, the monthly run, bills, payments, statements.
    #[command(subcommand)]
    Contribution(ContributionCommand),
    /// The audit trail of a person's data, from all four services.
    Audit {
        #[arg(long)]
        person_id: String,
    },
    /// Makes development certificates in the `--certs` directory: a CA, one
    /// per service, one per demo partner and operator OP0001 (what is there is kept).
    Certs {
        /// Also issue a certificate for this caller, KIND:CODE (e.g. a partner
        /// registered later).
        #[arg(long)]
        issue: Option<String>,
        /// More host names or addresses the services' certificates are valid for.
        #[arg(long)]
        host: Vec<String>,
    },
    /// Registers the demo partners and this year's rates for region 110100 (idempotent).
    SeedDemo,
    /// Walks journeys 1, 3 and 7 of the seed against the running system.
    Demo,
}

#[derive(Subcommand)]
pub enum PersonCommand {
    Register {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        id_number: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        gender: GenderArg,
        #[arg(long, default_value = "汉")]
        ethnicity: String,
        #[arg(long)]
        phone: String,
        #[arg(long)]
        address: String,
    },
    Get {
        #[arg(long)]
        person_id: String,
    },
    Lookup {
        #[arg(long)]
        id_number: String,
    },
    Confirm {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        person_id: String,
        #[arg(long)]
        version: i32,
    },
    Correct {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        person_id: String,
        #[arg(long)]
        version: i32,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        gender: GenderArg,
        #[arg(long, default_value = "汉")]
        ethnicity: String,
        #[arg(long)]
        phone: String,
        #[arg(long)]
        address: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        evidence: String,
    },
    Versions {
        #[arg(long)]
        person_id: String,
    },
    SetPassword {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        id_number: String,
        #[arg(long)]
        password: String,
    },
    SignIn {
        #[arg(long)]
        id_number: String,
        #[arg(long)]
        password: String,
    },
}

#[derive(Subcommand)]
pub enum PartnerCommand {
    Register {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        code: String,
        #[arg(long, value_enum)]
        kind: KindArg,
        #[arg(long)]
        name: String,
        #[arg(long)]
        region: String,
        #[arg(long, default_value = "")]
        parent: String,
        #[arg(long, default_value = "")]
        credit_code: String,
    },
    Designate {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        code: String,
        #[arg(long)]
        in_force: bool,
        #[arg(long)]
        reason: String,
    },
    List,
}

#[derive(Subcommand)]
pub enum CardCommand {
    Apply {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        person_id: String,
        #[arg(long)]
        bank: String,
    },
    Issue {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        application_id: String,
        #[arg(long)]
        bin: String,
    },
    /// Issues a bank's pending applications in one request, with a progress bar.
    IssueBatch {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        bank: String,
        #[arg(long)]
        bin: String,
        #[arg(long, default_value_t = 100_000)]
        max: i32,
    },
    Receive {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
    },
    Lose {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
    },
    Replace {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        bin: String,
    },
    Cancel {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
        #[arg(long)]
        reason: String,
    },
    Get {
        #[arg(long)]
        card: String,
    },
    List {
        #[arg(long)]
        person_id: String,
    },
    /// Registers a person's old medical insurance card.
    Legacy {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        number: String,
        #[arg(long)]
        person_id: String,
        #[arg(long)]
        region: String,
    },
}

#[derive(Subcommand)]
pub enum ActivateCommand {
    Outlet {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
        #[arg(long)]
        id_number: String,
        #[arg(long, default_value = "TELLER")]
        operator_id: String,
    },
    Hospital {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        inpatient: bool,
    },
    Pharmacy {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        legacy: String,
        #[arg(long)]
        card: String,
    },
    Financial {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        serial: String,
        #[arg(long)]
        id_number: String,
        #[arg(long)]
        bank_card: String,
    },
    Hotline {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
        #[arg(long)]
        id_number: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
pub enum ContributionCommand {
    Enrol {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        person_id: String,
        #[arg(long, default_value = "110100")]
        region: String,
        #[arg(long = "type", value_enum, required = true)]
        types: Vec<InsuranceArg>,
        #[arg(long, value_enum)]
        scheme: SchemeArg,
        #[arg(long, default_value = "")]
        employer: String,
        #[arg(long, default_value = "")]
        contract: String,
        /// First month, YYYY-MM.
        #[arg(long)]
        start: String,
    },
    Contract {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        agency: String,
        #[arg(long)]
        person_id: String,
        /// Monthly service fee in yuan.
        #[arg(long)]
        fee: String,
        #[arg(long)]
        start: String,
    },
    Wage {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        person_id: String,
        /// YYYY-MM, or a year for all its months.
        #[arg(long)]
        period: String,
        /// Monthly wage in yuan.
        #[arg(long)]
        wage: String,
    },
    /// Runs a month for a region, with a progress bar.
    Run {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        period: String,
        #[arg(long, default_value = "110100")]
        region: String,
        #[arg(long, default_value = "")]
        payer: String,
    },
    Bill {
        #[arg(long, default_value = "")]
        payer: String,
        #[arg(long)]
        period: String,
        #[arg(long)]
        as_of: Option<String>,
    },
    Pay {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        payer: String,
        #[arg(long)]
        period: String,
        /// Amount in yuan.
        #[arg(long)]
        amount: String,
        #[arg(long)]
        paid_on: Option<String>,
    },
    /// A person's contribution history as a table.
    Statement {
        #[arg(long)]
        person_id: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
}

fn gender(g: GenderArg) -> i32 {
    match g {
        GenderArg::Male => Gender::Male as i32,
        GenderArg::Female => Gender::Female as i32,
    }
}

pub async fn run(c: &Connection, command: Command, out: Printer) -> Outcome {
    match command {
        Command::Person(p) => person(c, p, out).await,
        Command::Partner(p) => partner(c, p, out).await,
        Command::Card(p) => cards(c, p, out).await,
        Command::Activate(a) => activate(c, a, out).await,
        Command::Eligibility { card, code, legacy } => {
            let card = match (card, legacy) {
                (Some(number), None) => {
                    activation::check_eligibility_request::Card::SocialSecurityCard(
                        activation::CardPresented {
                            card_number: number,
                            card_identification_code: code.unwrap_or_default(),
                        },
                    )
                }
                (None, Some(legacy)) => {
                    activation::check_eligibility_request::Card::LegacyCardNumber(legacy)
                }
                _ => {
                    return Err(Failure::Usage(
                        "give --card (and --code) or --legacy".into(),
                    ));
                }
            };
            let answer = c
                .activation()
                .await?
                .check_eligibility(
                    c.request(activation::CheckEligibilityRequest { card: Some(card) }),
                )
                .await?;
            out.message("socsec.activation.v1.Eligibility", answer.get_ref());
            Ok(())
        }
        Command::Deadlines { within_days } => {
            let answer = c
                .activation()
                .await?
                .list_approaching_deadlines(c.request(
                    activation::ListApproachingDeadlinesRequest {
                        within_days,
                        region_code: String::new(),
                        page: None,
                    },
                ))
                .await?;
            out.message(
                "socsec.activation.v1.ListApproachingDeadlinesResponse",
                answer.get_ref(),
            );
            Ok(())
        }
        Command::Contribution(cmd) => contributions(c, cmd, out).await,
        Command::Audit { person_id } => {
            // Every service keeps its own trail; the person's is all four.
            let mut records = Vec::new();
            for url in [&c.identity, &c.cards, &c.activation, &c.contribution] {
                let mut audit = AuditServiceClient::new(c.channel(url).await?);
                let mut page_token = String::new();
                loop {
                    let page = audit
                        .list_audit_records(c.request(audit::ListAuditRecordsRequest {
                            person_id: person_id.clone(),
                            page: Some(common::PageRequest {
                                page_size: 500,
                                page_token,
                            }),
                        }))
                        .await?
                        .into_inner();
                    records.extend(page.records);
                    page_token = page.page.unwrap_or_default().next_page_token;
                    if page_token.is_empty() {
                        break;
                    }
                }
            }
            records.sort_by_key(|r| r.at.as_ref().map(|t| (t.seconds, t.nanos)));
            if out.json {
                let all = audit::ListAuditRecordsResponse {
                    records,
                    page: None,
                };
                out.message("socsec.audit.v1.ListAuditRecordsResponse", &all);
            } else {
                for r in &records {
                    let at = r
                        .at
                        .as_ref()
                        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos as u32))
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default();
                    let service = r.service.split('.').nth(1).unwrap_or(&r.service);
                    let actor = if r.on_behalf_of.is_empty() {
                        r.actor.clone()
                    } else {
                        format!("{} for {}", r.actor, r.on_behalf_of)
                    };
                    println!(
                        "{at}  {service:<12} {:<6} {:<26} {actor:<28} {}",
                        r.access, r.action, r.request_id
                    );
                }
            }
            Ok(())
        }
        Command::Certs { issue, host } => {
            let written = devpki::ensure_development_pki(&c.certs, &host)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            for path in &written {
                println!("wrote {}", path.display());
            }
            if let Some(caller) = issue {
                let caller = socsec_core::Caller::parse(&caller)
                    // Services' certificates come with the setup; persons
                    // have none.
                    .filter(|c| c.kind.is_partner() || c.kind == socsec_core::CallerKind::Operator)
                    .ok_or_else(|| {
                        Failure::Usage(format!(
                            "--issue {caller}: expected KIND:CODE of a partner or an operator"
                        ))
                    })?;
                let path = devpki::issue_into(&c.certs, &caller)
                    .map_err(|e| Failure::Usage(e.to_string()))?;
                println!("wrote {}", path.display());
            }
            Ok(())
        }
        Command::SeedDemo => crate::demo::seed(c, out).await,
        Command::Demo => crate::demo::journeys(c, out).await,
    }
}

async fn person(c: &Connection, command: PersonCommand, out: Printer) -> Outcome {
    let mut identity = c.identity().await?;
    const PERSON: &str = "socsec.identity.v1.Person";
    match command {
        PersonCommand::Register {
            request_id,
            id_number,
            name,
            gender: g,
            ethnicity,
            phone,
            address,
        } => {
            let answer = identity
                .register_person(c.request(identity::RegisterPersonRequest {
                    request_id: request_id.get(),
                    id_number,
                    basic_info: Some(identity::BasicInfo {
                        name,
                        gender: gender(g),
                        ethnicity,
                        phone,
                        address,
                    }),
                }))
                .await?;
            out.message(PERSON, answer.get_ref());
        }
        PersonCommand::Get { person_id } => {
            let answer = identity
                .get_person(c.request(identity::GetPersonRequest { person_id }))
                .await?;
            out.message(PERSON, answer.get_ref());
        }
        PersonCommand::Lookup { id_number } => {
            let answer = identity
                .lookup_person(c.request(identity::LookupPersonRequest { id_number }))
                .await?;
            out.message(PERSON, answer.get_ref());
        }
        PersonCommand::Confirm {
            request_id,
            person_id,
            version,
        } => {
            let answer = identity
                .confirm_basic_info(c.request(identity::ConfirmBasicInfoRequest {
                    request_id: request_id.get(),
                    person_id,
                    version,
                }))
                .await?;
            out.message(PERSON, answer.get_ref());
        }
        PersonCommand::Correct {
            request_id,
            person_id,
            version,
            name,
            gender: g,
            ethnicity,
            phone,
            address,
            reason,
            evidence,
        } => {
            let answer = identity
                .correct_basic_info(c.request(identity::CorrectBasicInfoRequest {
                    request_id: request_id.get(),
                    person_id,
                    basic_info: Some(identity::BasicInfo {
                        name,
                        gender: gender(g),
                        ethnicity,
                        phone,
                        address,
                    }),
                    reason,
                    evidence_ref: evidence,
                    version,
                }))
                .await?;
            out.message(PERSON, answer.get_ref());
        }
        PersonCommand::Versions { person_id } => {
            let answer = identity
                .list_basic_info_versions(
                    c.request(identity::ListBasicInfoVersionsRequest { person_id }),
                )
                .await?;
            out.message(
                "socsec.identity.v1.ListBasicInfoVersionsResponse",
                answer.get_ref(),
            );
        }
        PersonCommand::SetPassword {
            request_id,
            id_number,
            password,
        } => {
            let answer = identity
                .set_online_password(c.request(identity::SetOnlinePasswordRequest {
                    request_id: request_id.get(),
                    id_number,
                    password,
                }))
                .await?;
            out.message(
                "socsec.identity.v1.SetOnlinePasswordResponse",
                answer.get_ref(),
            );
        }
        PersonCommand::SignIn {
            id_number,
            password,
        } => {
            let answer = identity
                .sign_in(identity::SignInRequest {
                    id_number,
                    password,
                })
                .await?;
            out.message("socsec.identity.v1.SignInResponse", answer.get_ref());
        }
    }
    Ok(())
}

async fn partner(c: &Connection, command: PartnerCommand, out: Printer) -> Outcome {
    let mut identity = c.identity().await?;
    match command {
        PartnerCommand::Register {
            request_id,
            code,
            kind,
            name,
            region,
            parent,
            credit_code,
        } => {
            let answer = identity
                .register_partner(c.request(identity::RegisterPartnerRequest {
                    request_id: request_id.get(),
                    code,
                    kind: kind.proto() as i32,
                    name,
                    region_code: region,
                    parent_code: parent,
                    credit_code,
                    designation_in_force: true,
                }))
                .await?;
            out.message("socsec.identity.v1.Partner", answer.get_ref());
        }
        PartnerCommand::Designate {
            request_id,
            code,
            in_force,
            reason,
        } => {
            let answer = identity
                .set_partner_designation(c.request(identity::SetPartnerDesignationRequest {
                    request_id: request_id.get(),
                    code,
                    designation_in_force: in_force,
                    reason,
                }))
                .await?;
            out.message("socsec.identity.v1.Partner", answer.get_ref());
        }
        PartnerCommand::List => {
            let answer = identity
                .list_partners(c.request(identity::ListPartnersRequest::default()))
                .await?;
            out.message("socsec.identity.v1.ListPartnersResponse", answer.get_ref());
        }
    }
    Ok(())
}

async fn cards(c: &Connection, command: CardCommand, out: Printer) -> Outcome {
    let mut cards = c.cards().await?;
    const CARD: &str = "socsec.card.v1.Card";
    match command {
        CardCommand::Apply {
            request_id,
            person_id,
            bank,
        } => {
            let answer = cards
                .apply_for_card(c.request(card::ApplyForCardRequest {
                    request_id: request_id.get(),
                    person_id,
                    bank_code: bank,
                    issuing_region_code: String::new(),
                }))
                .await?;
            out.message("socsec.card.v1.CardApplication", answer.get_ref());
        }
        CardCommand::Issue {
            request_id,
            application_id,
            bin,
        } => {
            let answer = cards
                .issue_card(c.request(card::IssueCardRequest {
                    request_id: request_id.get(),
                    application_id,
                    generation: 3,
                    bank_card_number: String::new(),
                    bank_bin: bin,
                }))
                .await?;
            out.message(CARD, answer.get_ref());
        }
        CardCommand::IssueBatch {
            request_id,
            bank,
            bin,
            max,
        } => {
            let mut stream = cards
                .issue_cards(c.request(card::IssueCardsRequest {
                    request_id: request_id.get(),
                    bank_code: bank,
                    bank_bin: bin,
                    generation: 3,
                    max_cards: max,
                }))
                .await?
                .into_inner();
            let bar = progress_bar(out, "cards");
            while let Some(progress) = stream.next().await {
                let progress = progress?;
                bar.set_length(progress.total.max(0) as u64);
                bar.set_position(progress.issued.max(0) as u64);
                if progress.done {
                    bar.finish();
                    out.message("socsec.card.v1.IssueCardsProgress", &progress);
                }
            }
        }
        CardCommand::Receive { request_id, card } => {
            let answer = cards
                .record_receipt(c.request(card::RecordReceiptRequest {
                    request_id: request_id.get(),
                    card_number: card,
                }))
                .await?;
            out.message(CARD, answer.get_ref());
        }
        CardCommand::Lose { request_id, card } => {
            let answer = cards
                .report_loss(c.request(card::ReportLossRequest {
                    request_id: request_id.get(),
                    card_number: card,
                    reason: String::new(),
                }))
                .await?;
            out.message(CARD, answer.get_ref());
        }
        CardCommand::Replace {
            request_id,
            card,
            reason,
            bin,
        } => {
            let answer = cards
                .replace_card(c.request(card::ReplaceCardRequest {
                    request_id: request_id.get(),
                    card_number: card,
                    reason,
                    generation: 3,
                    bank_card_number: String::new(),
                    bank_bin: bin,
                }))
                .await?;
            out.message(CARD, answer.get_ref());
        }
        CardCommand::Cancel {
            request_id,
            card,
            reason,
        } => {
            let answer = cards
                .cancel_card(c.request(card::CancelCardRequest {
                    request_id: request_id.get(),
                    card_number: card,
                    reason,
                }))
                .await?;
            out.message(CARD, answer.get_ref());
        }
        CardCommand::Get { card } => {
            let answer = cards
                .get_card(c.request(card::GetCardRequest {
                    key: Some(card::get_card_request::Key::CardNumber(card)),
                }))
                .await?;
            out.message(CARD, answer.get_ref());
        }
        CardCommand::List { person_id } => {
            let answer = cards
                .list_person_cards(c.request(card::ListPersonCardsRequest { person_id }))
                .await?;
            out.message("socsec.card.v1.ListPersonCardsResponse", answer.get_ref());
        }
        CardCommand::Legacy {
            request_id,
            number,
            person_id,
            region,
        } => {
            let answer = cards
                .register_legacy_medical_card(c.request(card::RegisterLegacyMedicalCardRequest {
                    request_id: request_id.get(),
                    card_number: number,
                    person_id,
                    region_code: region,
                }))
                .await?;
            out.message("socsec.card.v1.LegacyMedicalCard", answer.get_ref());
        }
    }
    Ok(())
}

async fn activate(c: &Connection, command: ActivateCommand, out: Printer) -> Outcome {
    let mut client = c.activation().await?;
    let answer = match command {
        ActivateCommand::Outlet {
            request_id,
            card,
            id_number,
            operator_id,
        } => {
            client
                .activate_at_bank_outlet(c.request(activation::ActivateAtBankOutletRequest {
                    request_id: request_id.get(),
                    operator_id,
                    card_number: card,
                    id_number,
                }))
                .await?
        }
        ActivateCommand::Hospital {
            request_id,
            card,
            code,
            inpatient,
        } => {
            client
                .activate_at_hospital(c.request(activation::ActivateAtHospitalRequest {
                    request_id: request_id.get(),
                    operator_id: "DESK".into(),
                    card_number: card,
                    card_identification_code: code,
                    visit_type: if inpatient {
                        activation::VisitType::Inpatient
                    } else {
                        activation::VisitType::Outpatient
                    } as i32,
                }))
                .await?
        }
        ActivateCommand::Pharmacy {
            request_id,
            legacy,
            card,
        } => {
            client
                .activate_at_pharmacy(c.request(activation::ActivateAtPharmacyRequest {
                    request_id: request_id.get(),
                    operator_id: "POS".into(),
                    legacy_card_number: legacy,
                    card_number: card,
                }))
                .await?
        }
        ActivateCommand::Financial {
            request_id,
            serial,
            id_number,
            bank_card,
        } => {
            client
                .activate_with_financial_function(c.request(
                    activation::ActivateWithFinancialFunctionRequest {
                        request_id: request_id.get(),
                        serial_number: serial,
                        id_number,
                        bank_card_number: bank_card,
                    },
                ))
                .await?
        }
        ActivateCommand::Hotline {
            request_id,
            card,
            id_number,
            name,
        } => {
            client
                .activate_by_hotline(c.request(activation::ActivateByHotlineRequest {
                    request_id: request_id.get(),
                    agent_id: "AGENT".into(),
                    id_number,
                    name,
                    card_number: card,
                }))
                .await?
        }
    };
    out.message("socsec.activation.v1.Activation", answer.get_ref());
    Ok(())
}

fn progress_bar(out: Printer, unit: &str) -> ProgressBar {
    if out.json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {unit} {{elapsed}}"))
    {
        bar.set_style(style);
    }
    bar
}

async fn contributions(c: &Connection, command: ContributionCommand, out: Printer) -> Outcome {
    let mut client = c.contribution().await?;
    match command {
        ContributionCommand::Enrol {
            request_id,
            person_id,
            region,
            types,
            scheme,
            employer,
            contract,
            start,
        } => {
            let answer = client
                .enrol(c.request(contribution::EnrolRequest {
                    request_id: request_id.get(),
                    person_id,
                    region_code: region,
                    insurance_types: types.into_iter().map(|t| t.proto() as i32).collect(),
                    scheme: match scheme {
                        SchemeArg::Employee => contribution::Scheme::Employee,
                        SchemeArg::Flexible => contribution::Scheme::Flexible,
                        SchemeArg::Agency => contribution::Scheme::Agency,
                    } as i32,
                    employer_code: employer,
                    agency_contract_id: contract,
                    start: Some(month(&start)?),
                }))
                .await?;
            out.message("socsec.contribution.v1.EnrolResponse", answer.get_ref());
        }
        ContributionCommand::Contract {
            request_id,
            agency,
            person_id,
            fee,
            start,
        } => {
            let answer = client
                .register_agency_contract(c.request(contribution::RegisterAgencyContractRequest {
                    request_id: request_id.get(),
                    agency_code: agency,
                    person_id,
                    monthly_service_fee: Some(common::Money { fen: fen(&fee)? }),
                    start: Some(month(&start)?),
                    end: None,
                }))
                .await?;
            out.message("socsec.contribution.v1.AgencyContract", answer.get_ref());
        }
        ContributionCommand::Wage {
            request_id,
            person_id,
            period,
            wage,
        } => {
            use contribution::declare_wage_request::Period;
            let period = match period.parse::<i32>() {
                Ok(year) => Period::Year(year),
                Err(_) => Period::Month(month(&period)?),
            };
            let answer = client
                .declare_wage(c.request(contribution::DeclareWageRequest {
                    request_id: request_id.get(),
                    person_id,
                    period: Some(period),
                    monthly_wage: Some(common::Money { fen: fen(&wage)? }),
                }))
                .await?;
            out.message(
                "socsec.contribution.v1.DeclareWageResponse",
                answer.get_ref(),
            );
        }
        ContributionCommand::Run {
            request_id,
            period,
            region,
            payer,
        } => {
            let mut stream = client
                .run_month(c.request(contribution::RunMonthRequest {
                    request_id: request_id.get(),
                    period: Some(month(&period)?),
                    region_code: region,
                    payer_code: payer,
                }))
                .await?
                .into_inner();
            let bar = progress_bar(out, "enrolments");
            while let Some(progress) = stream.next().await {
                let progress = progress?;
                bar.set_length(progress.enrolments_total.max(0) as u64);
                bar.set_position(progress.enrolments_done.max(0) as u64);
                if progress.done {
                    bar.finish();
                    out.message("socsec.contribution.v1.RunMonthProgress", &progress);
                }
            }
        }
        ContributionCommand::Bill {
            payer,
            period,
            as_of,
        } => {
            let as_of = as_of.as_deref().map(date).transpose()?;
            let answer = client
                .get_bill(c.request(contribution::GetBillRequest {
                    payer,
                    period: Some(month(&period)?),
                    as_of,
                }))
                .await?;
            out.message("socsec.contribution.v1.Bill", answer.get_ref());
        }
        ContributionCommand::Pay {
            request_id,
            payer,
            period,
            amount,
            paid_on,
        } => {
            let paid_on = paid_on.as_deref().map(date).transpose()?;
            let answer = client
                .record_payment(c.request(contribution::RecordPaymentRequest {
                    request_id: request_id.get(),
                    payer,
                    period: Some(month(&period)?),
                    amount: Some(common::Money { fen: fen(&amount)? }),
                    paid_on,
                }))
                .await?;
            out.message("socsec.contribution.v1.Payment", answer.get_ref());
        }
        ContributionCommand::Statement {
            person_id,
            from,
            to,
        } => {
            let answer = client
                .get_statement(c.request(contribution::GetStatementRequest {
                    person_id,
                    from: Some(month(&from)?),
                    to: Some(month(&to)?),
                    page: Some(common::PageRequest {
                        page_size: 500,
                        page_token: String::new(),
                    }),
                }))
                .await?;
            if out.json {
                out.message("socsec.contribution.v1.Statement", answer.get_ref());
            } else {
                print_statement(answer.get_ref());
            }
        }
    }
    Ok(())
}

pub fn print_statement(statement: &contribution::Statement) {
    println!(
        "{:<8} {:<13} {:<20} {:<19} {:>11} {:>6} {:>10}  {:<4} payer",
        "month", "insurance", "part", "account", "base", "rate%", "amount", "paid"
    );
    for line in &statement.lines {
        let period = line
            .period
            .as_ref()
            .map(|p| format!("{}-{:02}", p.year, p.month))
            .unwrap_or_default();
        let insurance = contribution::InsuranceType::try_from(line.insurance_type)
            .map(|t| {
                t.as_str_name()
                    .trim_start_matches("INSURANCE_TYPE_")
                    .to_owned()
            })
            .unwrap_or_default();
        let account = contribution::Account::try_from(line.account)
            .map(|a| a.as_str_name().trim_start_matches("ACCOUNT_").to_owned())
            .unwrap_or_default();
        println!(
            "{period:<8} {insurance:<13} {:<20} {account:<19} {:>11} {:>6} {:>10}  {:<4} {}",
            line.part,
            yuan(line.base.map_or(0, |m| m.fen)),
            format!("{}.{:02}", line.rate_bp / 100, line.rate_bp % 100),
            yuan(line.amount.map_or(0, |m| m.fen)),
            if line.paid { "yes" } else { "no" },
            line.payer
        );
    }
    println!(
        "individual account total: {}   pooling fund total: {}",
        yuan(statement.individual_account_total.map_or(0, |m| m.fen)),
        yuan(statement.pooling_fund_total.map_or(0, |m| m.fen))
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_amounts_parse_exactly() {
        assert_eq!(fen("1234.56").ok(), Some(123_456));
        assert_eq!(fen("8000").ok(), Some(800_000));
        assert_eq!(fen("0.5").ok(), Some(50));
        assert!(fen("1.234").is_err());
        assert!(fen("abc").is_err());
    }

    #[test]
    fn months_parse() {
        assert_eq!(
            month("2026-01").ok(),
            Some(common::YearMonth {
                year: 2026,
                month: 1
            })
        );
        assert!(month("202601").is_err());
    }
}
