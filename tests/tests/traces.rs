//! W3C trace context end to end: a partner's `traceparent` is continued by
//! the service it calls and by every service that one calls; an event
//! carries the trace of the change that produced it to its consumer; a
//! malformed `traceparent` starts a new trace; with `otlp_endpoint` set,
//! the spans reach a real OTLP/gRPC receiver under the partner's trace id.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::any_value::Value,
};
use socsec_proto::{
    activation::v1 as activation, card::v1 as card, common::v1::PartnerKind, identity::v1 as pb,
};
use system_tests::{
    System, activation_config, as_caller, card_config, eventually, fresh_database, identity_config,
    journeys::{self, Activation, Cards, Identity},
    logs, operator, spawn_activation_with, spawn_cards_with, spawn_identity_with, test_clock,
};
use tonic::Request;

/// A fresh trace id (32 lowercase hex digits) and a partner's span id.
fn partner_trace() -> (String, String) {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let span_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    (trace_id, span_id)
}

fn traced<T>(mut request: Request<T>, traceparent: &str) -> Request<T> {
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    request
}

/// The trace id and span id of an answer's `traceresponse`.
fn answered_trace<T>(response: &tonic::Response<T>) -> (String, String) {
    let value = response
        .metadata()
        .get("traceresponse")
        .expect("every answer names its trace")
        .to_str()
        .unwrap();
    let parts: Vec<&str> = value.split('-').collect();
    assert_eq!(parts.len(), 4, "{value}");
    (parts[1].to_owned(), parts[2].to_owned())
}

/// The captured log lines that carry `trace_id` and all of `containing`.
fn log_lines(trace_id: &str, containing: &[&str]) -> Vec<String> {
    let field = format!("trace_id={trace_id}");
    logs::captured()
        .lines()
        .filter(|line| line.contains(&field) && containing.iter().all(|c| line.contains(c)))
        .map(str::to_owned)
        .collect()
}

/// A bank outlet of ICBC, and a person with a received ICBC card that
/// activation's projection shows.
async fn card_at_outlet(
    identity: &mut Identity,
    cards: &mut Cards,
    activation: &mut Activation,
) -> (pb::Person, card::Card) {
    journeys::register_partner(identity, "ICBC", PartnerKind::Bank, "").await;
    journeys::register_partner(identity, "ICBC-0101", PartnerKind::BankOutlet, "ICBC").await;
    let (person, card) = journeys::person_with_received_card(identity, cards, "赵磊", "ICBC").await;
    journeys::projected(activation, &card.card_number, "RECEIVED").await;
    (person, card)
}

fn outlet_activation(
    person: &pb::Person,
    card: &card::Card,
    traceparent: &str,
) -> Request<activation::ActivateAtBankOutletRequest> {
    traced(
        as_caller(
            "bank_outlet:ICBC-0101",
            activation::ActivateAtBankOutletRequest {
                request_id: format!("outlet-{}", card.card_number),
                operator_id: "TELLER-1".into(),
                card_number: card.card_number.clone(),
                card_identification_code: card.card_identification_code.clone(),
                id_number: person.id_number.clone(),
            },
        ),
        traceparent,
    )
}

#[tokio::test]
async fn a_partners_traceparent_is_continued_by_activation_and_by_identity_behind_it() {
    let system = System::start().await;
    let mut identity = system.identity_client().await;
    let mut cards = system.card_client().await;
    let mut activation = system.activation_client().await;
    let (person, card) = card_at_outlet(&mut identity, &mut cards, &mut activation).await;

    let (trace_id, partner_span) = partner_trace();
    let traceparent = format!("00-{trace_id}-{partner_span}-01");
    let answer = activation
        .activate_at_bank_outlet(outlet_activation(&person, &card, &traceparent))
        .await
        .expect("the outlet activates the card");
    let (answered, activation_span) = answered_trace(&answer);
    assert_eq!(
        answered, trace_id,
        "activation continues the partner's trace"
    );
    assert_ne!(activation_span, partner_span, "in a span of its own");

    // Activation asked identity to verify the holder: identity's server
    // span, made from the headers it received, is in the partner's trace.
    let at_identity = log_lines(
        &trace_id,
        &["/socsec.identity.v1.IdentityService/VerifyHolder"],
    );
    assert!(
        !at_identity.is_empty(),
        "identity's VerifyHolder was not served in trace {trace_id}"
    );
    let at_activation = log_lines(
        &trace_id,
        &["/socsec.activation.v1.ActivationService/ActivateAtBankOutlet"],
    );
    assert!(!at_activation.is_empty(), "activation logged in the trace");
}

#[tokio::test]
async fn a_card_event_carries_the_trace_of_its_change_to_activations_projector() {
    let system = System::start().await;
    let mut identity = system.identity_client().await;
    let mut cards = system.card_client().await;
    journeys::register_partner(&mut identity, "ICBC", PartnerKind::Bank, "").await;
    let person = journeys::confirmed_person(&mut identity, "钱敏").await;
    let application = journeys::apply(&mut cards, &person, "ICBC").await;
    let issued = journeys::issue(&mut cards, &application).await;

    let (trace_id, partner_span) = partner_trace();
    let traceparent = format!("00-{trace_id}-{partner_span}-01");
    let answer = cards
        .record_receipt(traced(
            operator(card::RecordReceiptRequest {
                request_id: format!("receive-{}", issued.card_number),
                card_number: issued.card_number.clone(),
            }),
            &traceparent,
        ))
        .await
        .expect("receipt recorded");
    let (_, receipt_span) = answered_trace(&answer);

    // Stored beside the event: the receipt call's own span, in the trace.
    let pool = sqlx::PgPool::connect(&system.database_url).await.unwrap();
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT traceparent FROM card_issuance.outbox WHERE traceparent LIKE $1",
    )
    .bind(format!("00-{trace_id}-%"))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(stored, [format!("00-{trace_id}-{receipt_span}-01")]);

    // Activation's projector applies it in the same trace.
    let mut activation = system.activation_client().await;
    journeys::projected(&mut activation, &issued.card_number, "RECEIVED").await;
    eventually(
        "the projector's log line in the receipt's trace",
        Duration::from_secs(10),
        async || {
            let lines = log_lines(&trace_id, &["event applied", "card-issuance"]);
            (!lines.is_empty()).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_malformed_traceparent_is_ignored_and_the_call_starts_a_new_trace() {
    let system = System::start().await;
    let mut identity = system.identity_client().await;
    let (trace_id, partner_span) = partner_trace();
    let malformed = [
        format!("00-{trace_id}-{partner_span}"),
        format!("00-{trace_id}-0000000000000000-01"),
        format!("ff-{trace_id}-{partner_span}-01"),
        "not a trace".to_owned(),
    ];
    let mut seen = Vec::new();
    for traceparent in &malformed {
        let answer = identity
            .list_partners(traced(
                operator(pb::ListPartnersRequest::default()),
                traceparent,
            ))
            .await
            .unwrap_or_else(|status| panic!("{traceparent:?} refused: {status:?}"));
        let (answered, _) = answered_trace(&answer);
        assert_ne!(answered, trace_id, "{traceparent:?} was not ignored");
        assert_eq!(answered.len(), 32);
        assert!(answered.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(answered, "0".repeat(32));
        seen.push(answered);
    }
    seen.dedup();
    assert_eq!(seen.len(), malformed.len(), "each call a trace of its own");
}

/// An OTLP/gRPC trace receiver: keeps every span it is sent, with the
/// `service.name` of its resource.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<ReceivedSpan>>>);

#[derive(Clone, Debug)]
struct ReceivedSpan {
    service: String,
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut kept = self.0.lock().unwrap();
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| match a.value.as_ref()?.value.as_ref()? {
                    Value::StringValue(name) => Some(name.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for span in resource_spans.scope_spans.into_iter().flat_map(|s| s.spans) {
                kept.push(ReceivedSpan {
                    service: service.clone(),
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                });
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

async fn start_receiver() -> (SocketAddr, Receiver) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let receiver = Receiver::default();
    let service = TraceServiceServer::new(receiver.clone());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    (addr, receiver)
}

#[tokio::test]
async fn with_otlp_endpoint_set_the_spans_of_a_call_reach_the_receiver_in_the_partners_trace() {
    let (receiver_addr, receiver) = start_receiver().await;
    let endpoint = format!("http://{receiver_addr}");
    let database_url = fresh_database().await;
    let clock = Arc::new(test_clock());
    let mut config = identity_config(&database_url);
    config.platform.otlp_endpoint = Some(endpoint.clone());
    let identity_service = spawn_identity_with(config, clock.clone()).await;
    let cards_service = spawn_cards_with(
        card_config(&database_url, identity_service.addr),
        clock.clone(),
    )
    .await;
    let mut config = activation_config(&database_url, identity_service.addr, cards_service.addr);
    config.platform.otlp_endpoint = Some(endpoint);
    let activation_service = spawn_activation_with(config, clock.clone()).await;

    let mut identity = journeys::Identity::new(identity_service.channel().await);
    let mut cards = journeys::Cards::new(cards_service.channel().await);
    let mut activation = journeys::Activation::new(activation_service.channel().await);
    let (person, card) = card_at_outlet(&mut identity, &mut cards, &mut activation).await;

    let (trace_id, partner_span) = partner_trace();
    let traceparent = format!("00-{trace_id}-{partner_span}-01");
    let answer = activation
        .activate_at_bank_outlet(outlet_activation(&person, &card, &traceparent))
        .await
        .expect("the outlet activates the card");
    let (_, activation_span) = answered_trace(&answer);

    // Stopping a service sends what its exporter still holds.
    activation_service.stop().await.unwrap();
    identity_service.stop().await.unwrap();
    let spans: Vec<ReceivedSpan> = receiver
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.trace_id == trace_id)
        .cloned()
        .collect();
    let served = spans
        .iter()
        .find(|s| s.name == "socsec.activation.v1.ActivationService/ActivateAtBankOutlet")
        .unwrap_or_else(|| panic!("activation's span was not exported: {spans:?}"));
    assert_eq!(served.service, "activation");
    assert_eq!(served.span_id, activation_span);
    assert_eq!(
        served.parent_span_id, partner_span,
        "a child of the partner's span"
    );
    let verified = spans
        .iter()
        .find(|s| s.name == "socsec.identity.v1.IdentityService/VerifyHolder")
        .unwrap_or_else(|| panic!("identity's span was not exported: {spans:?}"));
    assert_eq!(verified.service, "identity");
    assert_eq!(
        verified.parent_span_id, activation_span,
        "a child of activation's span"
    );
}
