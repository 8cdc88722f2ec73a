//! Bounded requests: every string and repeated field of every request has a
//! maximum (each service's `api/parse/limits.rs`), refused before any other
//! work with one violation that names the field and its limit; a message
//! over `max_message_bytes` is `RESOURCE_EXHAUSTED` / `MESSAGE_TOO_LARGE`;
//! the README lists the limits the services enforce.

use std::{collections::HashMap, time::Duration};

use http::uri::PathAndQuery;
use platform::{
    auth::{Access, CallerKind, Policy},
    limits::{Documented, Max},
};
use prost::{
    Message,
    bytes::{Buf, BufMut},
    encoding::{DecodeContext, WireType},
};
use prost_types::{DescriptorProto, FileDescriptorSet, MethodDescriptorProto};
use socsec_proto::{
    common::v1::{Gender, PartnerKind},
    contribution::v1 as contribution_pb,
    identity::v1 as identity_pb,
};
use system_tests::{
    AsCaller, CallerChannel, System, bad_fields, caller_channel, journeys, operator, reason,
};
use tokio::sync::Mutex;
use tonic::{Code, Request, client::Grpc};
use tonic_prost::ProstCodec;
use tonic_types::StatusExt;

/// The tests that start services run one at a time, so that the memory
/// measured is the measured request's.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// A request as raw protobuf bytes: any RPC, any field, from the descriptors.
#[derive(Clone, Debug, Default, PartialEq)]
struct Raw(Vec<u8>);

impl Message for Raw {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

/// The compiled descriptors: every message by full name, every method by path.
struct Descriptors {
    messages: HashMap<String, DescriptorProto>,
    methods: HashMap<String, MethodDescriptorProto>,
}

impl Descriptors {
    fn load() -> Self {
        let set = FileDescriptorSet::decode(socsec_proto::FILE_DESCRIPTOR_SET).unwrap();
        let mut messages = HashMap::new();
        let mut methods = HashMap::new();
        for file in &set.file {
            for message in &file.message_type {
                index(&mut messages, &format!(".{}", file.package()), message);
            }
            for service in &file.service {
                for method in &service.method {
                    let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                    methods.insert(path, method.clone());
                }
            }
        }
        Self { messages, methods }
    }

    /// A request of `method` whose only content is `field` (a dotted
    /// path) holding `value`: `n` characters, or `n` entries.
    fn request(&self, method: &MethodDescriptorProto, field: &str, value: &Value) -> Raw {
        let mut message = &self.messages[method.input_type()];
        let mut numbers = Vec::new();
        let mut length_delimited = false;
        for name in field.split('.') {
            let field = message.field.iter().find(|f| f.name() == name).unwrap();
            numbers.push(field.number() as u64);
            length_delimited = matches!(
                field.r#type(),
                prost_types::field_descriptor_proto::Type::Message
                    | prost_types::field_descriptor_proto::Type::String
            );
            if let Some(inner) = self.messages.get(field.type_name()) {
                message = inner;
            }
        }
        let mut bytes = match value {
            // Entries of a repeated message or string: each one empty.
            Value::Entries(n) if length_delimited => {
                let number = numbers.pop().unwrap();
                let mut entries = Vec::new();
                for _ in 0..*n {
                    varint(number << 3 | 2, &mut entries);
                    varint(0, &mut entries);
                }
                if numbers.is_empty() {
                    return Raw(entries);
                }
                entries
            }
            // An entry of 1 is a valid enum value of every repeated enum.
            Value::Entries(n) => vec![1; *n],
            Value::Chars(n, c) => c.to_string().repeat(*n).into_bytes(),
        };
        for number in numbers.into_iter().rev() {
            let mut outer = Vec::new();
            varint(number << 3 | 2, &mut outer);
            varint(bytes.len() as u64, &mut outer);
            outer.extend(bytes);
            bytes = outer;
        }
        Raw(bytes)
    }
}

fn index(messages: &mut HashMap<String, DescriptorProto>, scope: &str, message: &DescriptorProto) {
    let name = format!("{scope}.{}", message.name());
    for nested in &message.nested_type {
        index(messages, &name, nested);
    }
    messages.insert(name, message.clone());
}

fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

enum Value {
    Chars(usize, char),
    Entries(usize),
}

/// Who calls an RPC: an operator where allowed, else a service, else a
/// person, else a registered partner of the first kind allowed.
fn caller_for(policy: &Policy, path: &str, person_token: &str) -> Request<()> {
    let kinds = policy
        .rules
        .iter()
        .chain(platform::auth::PLATFORM_RULES)
        .find(|(rule, _)| *rule == path)
        .map(|(_, access)| *access);
    let kind = match kinds {
        Some(Access::Only(kinds)) => [
            CallerKind::Operator,
            CallerKind::Service,
            CallerKind::Person,
        ]
        .into_iter()
        .find(|k| kinds.contains(k))
        .unwrap_or(kinds[0]),
        _ => CallerKind::Operator,
    };
    match kind {
        CallerKind::Person => system_tests::with_token(person_token, ()),
        kind => {
            let mut request = Request::new(());
            let caller = format!("{}:{}", kind.as_str(), partner_code(kind));
            request.extensions_mut().insert(AsCaller(caller));
            request
        }
    }
}

fn partner_code(kind: CallerKind) -> String {
    format!("{}-1", kind.as_str().replace('_', "-").to_uppercase())
}

async fn register_partners(system: &System) {
    let mut identity = system.identity_client().await;
    for (kind, partner_kind, parent) in [
        (CallerKind::Bank, PartnerKind::Bank, None),
        (
            CallerKind::BankOutlet,
            PartnerKind::BankOutlet,
            Some(CallerKind::Bank),
        ),
        (CallerKind::Hospital, PartnerKind::Hospital, None),
        (CallerKind::Pharmacy, PartnerKind::Pharmacy, None),
        (CallerKind::HrAgency, PartnerKind::HrAgency, None),
        (CallerKind::Employer, PartnerKind::Employer, None),
        (CallerKind::HotlineCenter, PartnerKind::HotlineCenter, None),
    ] {
        let parent = parent.map(partner_code).unwrap_or_default();
        journeys::register_partner(&mut identity, &partner_code(kind), partner_kind, &parent).await;
    }
}

/// Sends `raw` to `path` as `caller`; the refusal, if it is refused.
async fn send(
    channel: CallerChannel,
    path: &str,
    streaming: bool,
    caller: Request<()>,
    raw: Raw,
) -> Option<tonic::Status> {
    let mut grpc = Grpc::new(channel);
    grpc.ready().await.unwrap();
    let (metadata, extensions, ()) = caller.into_parts();
    let request = Request::from_parts(metadata, extensions, raw);
    let path = PathAndQuery::try_from(path.to_owned()).unwrap();
    let codec = ProstCodec::<Raw, Raw>::default();
    let answer = async {
        if streaming {
            let mut stream = grpc
                .server_streaming(request, path, codec)
                .await?
                .into_inner();
            stream.message().await.map(|_| ())
        } else {
            grpc.unary(request, path, codec).await.map(|_| ())
        }
    };
    // A call that got past parsing may keep a stream open: not refused.
    match tokio::time::timeout(Duration::from_secs(5), answer).await {
        Ok(Err(status)) => Some(status),
        _ => None,
    }
}

type Limits = &'static [&'static dyn Documented];

/// Each service's name, authorization table, limits and address.
fn services(system: &System) -> [(&'static str, &'static Policy, Limits, std::net::SocketAddr); 4] {
    [
        (
            "socsec.identity.v1.IdentityService",
            &identity::policy::POLICY,
            identity::api::parse::limits::ALL,
            system.identity.addr,
        ),
        (
            "socsec.card.v1.CardService",
            &card_issuance::policy::POLICY,
            card_issuance::api::parse::limits::ALL,
            system.cards.addr,
        ),
        (
            "socsec.activation.v1.ActivationService",
            &activation::policy::POLICY,
            activation::api::parse::limits::ALL,
            system.activation.addr,
        ),
        (
            "socsec.contribution.v1.ContributionService",
            &contribution::policy::POLICY,
            contribution::api::parse::limits::ALL,
            system.contribution.addr,
        ),
    ]
}

/// A request over a bound gets exactly one violation: that field, with the
/// limit in its description; a request at the bound gets none from it.
async fn check_field(
    descriptors: &Descriptors,
    channel: &CallerChannel,
    policy: &Policy,
    path: &str,
    field: &str,
    max: Max,
    person_token: &str,
) {
    if field.contains("[]") {
        // A bound inside each entry of a batch (an import's records) is
        // checked by that record's own parser, so one record over it is
        // rejected alone and the batch goes on (tests/tests/import.rs).
        return;
    }
    let method = &descriptors.methods[path];
    let streaming = method.server_streaming();
    let (over, at, limit_reason) = match max {
        Max::Chars(n) => (
            Value::Chars(n + 1, 'x'),
            // At the limit in characters, at three times that in bytes.
            Value::Chars(n, '街'),
            "FIELD_TOO_LONG",
        ),
        Max::Items(n) => (Value::Entries(n + 1), Value::Entries(n), "TOO_MANY_ITEMS"),
    };
    let request = descriptors.request(method, field, &over);
    let status = send(
        channel.clone(),
        path,
        streaming,
        caller_for(policy, path, person_token),
        request,
    )
    .await
    .unwrap_or_else(|| panic!("{path} {field} over {max}: not refused"));
    assert_eq!(
        status.code(),
        Code::InvalidArgument,
        "{path} {field}: {status:?}"
    );
    assert_eq!(
        bad_fields(&status),
        [(field.to_owned(), limit_reason.to_owned())],
        "{path} {field} over {max}"
    );
    let violation = &status.get_details_bad_request().unwrap().field_violations[0];
    let number = match max {
        Max::Chars(n) | Max::Items(n) => n.to_string(),
    };
    assert!(
        violation.description.contains(&number),
        "{path} {field}: {violation:?}"
    );

    let request = descriptors.request(method, field, &at);
    if let Some(status) = send(
        channel.clone(),
        path,
        streaming,
        caller_for(policy, path, person_token),
        request,
    )
    .await
    {
        assert!(
            !bad_fields(&status).contains(&(field.to_owned(), limit_reason.to_owned())),
            "{path} {field} at {max}: {status:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bounded_field_of_every_rpc_is_refused_over_its_limit_alone() {
    let _one = ONE_AT_A_TIME.lock().await;
    let system = System::start().await;
    register_partners(&system).await;
    // A person with a live session (SignOut's "at the limit" call ends it:
    // SignOut is the only RPC only persons call, and has one bounded field).
    let (_, person_token) = system.signed_in_person().await;
    let descriptors = Descriptors::load();
    let mut checked = 0;
    for (service, policy, limits, addr) in services(&system) {
        let channel = caller_channel(addr);
        let every_service_serves = platform::limits::PLATFORM
            .iter()
            .map(|t| ("socsec.audit.v1.AuditService", *t));
        for (service, table) in limits
            .iter()
            .map(|t| (service, *t))
            .chain(every_service_serves)
        {
            let path = format!("/{service}/{}", table.rpc());
            for (field, max) in table.fields() {
                check_field(
                    &descriptors,
                    &channel,
                    policy,
                    &path,
                    field,
                    max,
                    &person_token,
                )
                .await;
                checked += 1;
            }
        }
    }
    // Every RPC of the four services has at least one bounded field.
    assert!(checked > 100, "{checked} fields checked");
}

#[tokio::test]
async fn an_oversized_string_is_one_violation_and_nothing_else_is_looked_at() {
    let _one = ONE_AT_A_TIME.lock().await;
    let system = System::start().await;
    let mut client = system.identity_client().await;
    let mut info = journeys::basic_info("郑爽", Gender::Male);
    info.address = "街".repeat(1 << 20);
    let status = client
        .register_person(operator(identity_pb::RegisterPersonRequest {
            // Both bad too, but a request over a bound is not parsed further.
            request_id: String::new(),
            id_number: "123".into(),
            basic_info: Some(info),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(reason(&status), "FIELD_TOO_LONG");
    let violations = status.get_details_bad_request().unwrap().field_violations;
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].field, "basic_info.address");
    assert_eq!(violations[0].description, "must be at most 200 characters");
}

#[tokio::test]
async fn a_batch_of_a_thousand_bad_entries_is_answered_in_small_trailers_on_a_live_connection() {
    let _one = ONE_AT_A_TIME.lock().await;
    let system = System::start().await;
    let mut client = system.identity_client().await;
    let lookup =
        |id_numbers: Vec<String>| operator(identity_pb::LookupPersonsRequest { id_numbers });
    // Listed in full, these thousand violations made trailers of ~100 KB,
    // which the client's HTTP/2 layer refuses (INTERNAL "h2 protocol
    // error"), at times closing the connection under the caller's other
    // calls. Each time on the same connection, the answer must be readable.
    for _ in 0..3 {
        let status = client
            .lookup_persons(lookup(vec![String::new(); platform::import::MAX_BATCH]))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        let details = status.get_error_details();
        let info = details.error_info().unwrap();
        assert_eq!(info.reason, "ID_NUMBER_LENGTH");
        assert_eq!(
            info.metadata["violations"],
            platform::import::MAX_BATCH.to_string()
        );
        let listed = &details.bad_request().unwrap().field_violations;
        assert_eq!(listed.len(), platform::error::MAX_LISTED_VIOLATIONS);
        assert_eq!(listed[0].field, "id_numbers[0]");
        // And the connection still serves: a good lookup answers.
        client.lookup_persons(lookup(Vec::new())).await.unwrap();
    }
}

/// This process's resident memory now and at its peak, in KiB
/// (`/proc/self/status`: the services run in this process).
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/self/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test]
async fn an_enrol_with_a_million_insurance_types_is_refused_small_and_cheap() {
    let _one = ONE_AT_A_TIME.lock().await;
    let system = System::start().await;
    let mut contribution = system.contribution_client().await;
    let enrol = |insurance_types: Vec<i32>| {
        operator(contribution_pb::EnrolRequest {
            request_id: "enrol-many".into(),
            person_id: uuid::Uuid::new_v4().to_string(),
            region_code: "110100".into(),
            insurance_types,
            scheme: contribution_pb::Scheme::Flexible as i32,
            start: Some(socsec_proto::common::v1::YearMonth {
                year: 2026,
                month: 1,
            }),
            ..Default::default()
        })
    };
    // A small refusal first, so that connections and buffers exist already.
    let _ = contribution.enrol(enrol(vec![0; 6])).await.unwrap_err();
    // The peak so far is the other tests' and the start's: reset it to now
    // (Linux 4.0 and later; otherwise the figures only show a higher peak).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (rss_before, peak_before) = memory_kib();

    let million = vec![contribution_pb::InsuranceType::OldAge as i32; 1_000_000];
    let status = contribution.enrol(enrol(million)).await.unwrap_err();

    let (rss_after, peak_after) = memory_kib();
    let error_bytes = status.message().len() + status.details().len();
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "Enrol with 1,000,000 insurance_types: refused {:?} / {} in {error_bytes} bytes; \
         process VmRSS {:.1} -> {:.1} MiB, VmHWM {:.1} -> {:.1} MiB (+{:.1} MiB)",
        status.code(),
        reason(&status),
        mib(rss_before),
        mib(rss_after),
        mib(peak_before),
        mib(peak_after),
        mib(peak_after - peak_before),
    );
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        bad_fields(&status),
        [("insurance_types".to_owned(), "TOO_MANY_ITEMS".to_owned())]
    );
    assert!(error_bytes < 1024, "the refusal is {error_bytes} bytes");
    // The request itself is ~1 MB on the wire and 4 MB decoded, on both
    // sides of the call; one error per entry took 2.5-2.9 GiB.
    assert!(
        peak_after - peak_before < 256 * 1024,
        "the peak grew by {:.1} MiB",
        mib(peak_after - peak_before)
    );
}

#[tokio::test]
async fn a_message_over_the_size_limit_is_resource_exhausted_with_a_reason() {
    let _one = ONE_AT_A_TIME.lock().await;
    let system = System::start().await;
    let mut contribution = system.contribution_client().await;
    // 5 MiB of one-byte entries, over the default 4 MiB limit.
    let status = contribution
        .enrol(operator(contribution_pb::EnrolRequest {
            request_id: "enrol-huge".into(),
            insurance_types: vec![1; 5 << 20],
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.reason, "MESSAGE_TOO_LARGE");
    assert_eq!(info.metadata["max_message_bytes"], (4 << 20).to_string());
    // The service goes on serving.
    let status = contribution
        .enrol(operator(contribution_pb::EnrolRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
}

const README_BEGIN: &str =
    "<!-- limits: rendered from each service's api/parse/limits.rs by tests/tests/bounds.rs -->\n";
const README_END: &str = "<!-- end of limits -->\n";

/// The README's table of limits, rendered from the tables the services enforce.
fn limits_table() -> String {
    let mut table = String::from("| RPC | field | maximum |\n|---|---|---|\n");
    let every_service = ("AuditService", platform::limits::PLATFORM);
    let services = [
        ("IdentityService", identity::api::parse::limits::ALL),
        ("CardService", card_issuance::api::parse::limits::ALL),
        ("ActivationService", activation::api::parse::limits::ALL),
        ("ContributionService", contribution::api::parse::limits::ALL),
        every_service,
    ];
    for (service, tables) in services {
        for limits in tables {
            for (field, max) in limits.fields() {
                table.push_str(&format!(
                    "| `{service}/{}` | `{field}` | {max} |\n",
                    limits.rpc()
                ));
            }
        }
    }
    table
}

#[test]
fn the_readme_lists_the_enforced_limits() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let (Some(begin), Some(end)) = (readme.find(README_BEGIN), readme.find(README_END)) else {
        panic!("README.md has no limits section ({README_BEGIN:?} … {README_END:?})");
    };
    let documented = &readme[begin + README_BEGIN.len()..end];
    let rendered = limits_table();
    if std::env::var_os("SOCSEC_WRITE_DOCS").is_some() && documented != rendered {
        let written = format!(
            "{}{rendered}{}",
            &readme[..begin + README_BEGIN.len()],
            &readme[end..]
        );
        std::fs::write(path, written).unwrap();
        return;
    }
    assert!(
        documented == rendered,
        "README.md's limits differ from the enforced tables; \
         run SOCSEC_WRITE_DOCS=1 deploy/test.sh --test bounds"
    );
}
