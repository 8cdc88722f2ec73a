//! Every RPC over HTTP/1.1 (or HTTP/2) and JSON, by transcoding — not a
//! second implementation.
//!
//! A Connect-style unary call, `POST /socsec.activation.v1.ActivationService/
//! CheckEligibility` with `content-type: application/json` and the request
//! message in proto3 JSON, is decoded against the compiled descriptors
//! (`socsec_proto::FILE_DESCRIPTOR_SET`), re-encoded as a gRPC-framed
//! protobuf request on the same path, and sent through the same inner stack
//! — metrics, limits, auth (the connection's mutual-TLS identity and the
//! `authorization` header travel with the request), the message-size
//! refusal, the service — and the answer is transcoded back: the message in
//! proto3 JSON (every field, 64-bit integers as strings, enums by name,
//! timestamps in RFC 3339), or an error body ([`error`]) with the matching
//! HTTP status. A server-streaming RPC answers newline-delimited JSON, one
//! message a line, an error as the last line ([`stream`]).
//!
//! A service may also serve the medical-insurance platform's envelope
//! ([`envelope`]), mapped onto its RPCs and sent through the same path.
//!
//! Anything else (gRPC, health, reflection) passes through untouched.
//! [`openapi`] describes the same mapping as an OpenAPI 3.1 document.

pub mod envelope;
pub mod error;
pub mod openapi;
mod stream;

use std::{
    sync::LazyLock,
    task::{Context, Poll},
};

use bytes::{BufMut, Bytes, BytesMut};
use futures::future::BoxFuture;
use http::{HeaderValue, Method, header};
use http_body_util::{BodyExt, Full, Limited};
use prost::Message as _;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, MethodDescriptor, SerializeOptions,
};
use tonic::{Code, Status, body::Body};
use tower::{Layer, Service};

use crate::error as status;

/// The descriptors of every `socsec.*` RPC and message, and the
/// `google.rpc` error details.
pub fn descriptors() -> &'static DescriptorPool {
    static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
        let mut pool = DescriptorPool::decode(socsec_proto::FILE_DESCRIPTOR_SET)
            .expect("the compiled descriptor set is valid");
        pool.decode_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            .expect("tonic-types' descriptor set is valid");
        pool
    });
    &POOL
}

/// The RPC a path names (`/socsec.x.v1.XService/Method`), if any.
pub fn method(path: &str) -> Option<MethodDescriptor> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    if !service.starts_with("socsec.") {
        return None;
    }
    descriptors()
        .get_service_by_name(service)?
        .methods()
        .find(|m| m.name() == method)
}

/// How answers are written: every field, also those at their default, so a
/// client need not know proto3's defaults; names in lowerCamelCase (both
/// spellings are accepted in requests).
pub(crate) fn serialize_options() -> SerializeOptions {
    SerializeOptions::new().skip_default_fields(false)
}

/// Transcodes JSON calls; outermost in the host's stack.
#[derive(Clone)]
pub struct JsonLayer {
    max_message_bytes: usize,
    envelopes: Option<envelope::Adapter>,
}

impl JsonLayer {
    /// A JSON body over `max_message_bytes` is refused as gRPC refuses a
    /// message over it.
    pub fn new(max_message_bytes: usize) -> Self {
        Self {
            max_message_bytes,
            envelopes: None,
        }
    }

    /// Serves the envelope at [`envelope::PATH`] with `adapter`'s
    /// transactions.
    pub fn with_envelopes(mut self, adapter: Option<envelope::Adapter>) -> Self {
        self.envelopes = adapter;
        self
    }
}

impl<S> Layer<S> for JsonLayer {
    type Service = Json<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Json {
            inner,
            max_message_bytes: self.max_message_bytes,
            envelopes: self.envelopes.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Json<S> {
    inner: S,
    max_message_bytes: usize,
    envelopes: Option<envelope::Adapter>,
}

impl<S, B> Service<http::Request<Body>> for Json<S>
where
    S: Service<http::Request<Body>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if let Some(adapter) = &self.envelopes
            && request.uri().path() == envelope::PATH
        {
            // Vendor DLLs send the envelope with varying content types: the
            // path alone says it is one.
            let adapter = adapter.clone();
            let clone = self.inner.clone();
            let inner = std::mem::replace(&mut self.inner, clone);
            let max = self.max_message_bytes;
            return Box::pin(envelope::call(inner, adapter, request, max));
        }
        match content_type(request.headers()) {
            Kind::Json => {}
            Kind::Grpc => {
                let answer = self.inner.call(request);
                return Box::pin(async move { Ok(answer.await?.map(Body::new)) });
            }
            // Neither gRPC nor JSON: answered in JSON, never by tonic with
            // an `application/grpc` answer the caller cannot read.
            Kind::Other => {
                let refusal =
                    error::unsupported_media_type("send content-type: application/json (or gRPC)");
                return Box::pin(async move { Ok(refusal) });
            }
        }
        // The inner service was made ready for this call; a clone takes its
        // place for the next (tower's usual dance).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let max = self.max_message_bytes;
        Box::pin(transcode(inner, request, max))
    }
}

enum Kind {
    Json,
    Grpc,
    Other,
}

/// `application/json` (parameters such as `charset` aside), gRPC
/// (`application/grpc`, `application/grpc+proto` …), or anything else.
fn content_type(headers: &http::HeaderMap) -> Kind {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if media_type == "application/json" {
        Kind::Json
    } else if media_type.starts_with("application/grpc") {
        Kind::Grpc
    } else {
        Kind::Other
    }
}

async fn transcode<S, B>(
    mut inner: S,
    request: http::Request<Body>,
    max_message_bytes: usize,
) -> Result<http::Response<Body>, S::Error>
where
    S: Service<http::Request<Body>, Response = http::Response<B>>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (mut parts, body) = request.into_parts();
    if parts.method != Method::POST {
        return Ok(error::not_post("every RPC is called with POST"));
    }
    let method = match rpc_of(&parts) {
        Ok(method) => method,
        Err(refusal) => return Ok(error::response(&refusal)),
    };
    let message = match read_message(&method, body, max_message_bytes).await {
        Ok(message) => message,
        Err(refusal) => return Ok(error::response(&refusal)),
    };
    let mut framed = BytesMut::with_capacity(message.encoded_len() + 5);
    framed.put_u8(0);
    framed.put_u32(message.encoded_len() as u32);
    message.encode(&mut framed).expect("BytesMut grows");
    parts.method = Method::POST;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::ACCEPT_ENCODING);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    parts
        .headers
        .insert(header::TE, HeaderValue::from_static("trailers"));
    let grpc = http::Request::from_parts(parts, Body::new(Full::new(framed.freeze())));
    let answer = inner.call(grpc).await?;
    if method.is_server_streaming() {
        return Ok(stream::respond(method, answer));
    }
    Ok(unary_answer(&method, answer).await)
}

/// The RPC a JSON request calls, or why it calls none.
fn rpc_of(parts: &http::request::Parts) -> Result<MethodDescriptor, Status> {
    let method = method(parts.uri.path()).ok_or_else(|| {
        status::status(
            Code::NotFound,
            "RPC_NOT_FOUND",
            format!("no RPC at {}", parts.uri.path()),
        )
    })?;
    if method.is_client_streaming() {
        return Err(status::status(
            Code::Unimplemented,
            "STREAMING_REQUEST_NOT_SUPPORTED",
            "client-streaming RPCs are served over gRPC only",
        ));
    }
    Ok(method)
}

/// The request message in a JSON body of at most `max` bytes.
async fn read_message(
    method: &MethodDescriptor,
    body: Body,
    max: usize,
) -> Result<DynamicMessage, Status> {
    let bytes = match Limited::new(body, max).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(crate::message_size::too_large(max));
        }
        Err(_) => {
            return Err(status::status(
                Code::InvalidArgument,
                "JSON_BODY_UNREADABLE",
                "the request body could not be read",
            ));
        }
    };
    let invalid = |e: serde_json::Error, field: Option<String>| {
        let message = format!(
            "the body is not a valid {}: {}",
            method.input().full_name(),
            without_values(&e.to_string())
        );
        match field {
            // The offending field as a `BadRequest` violation, named as the
            // RPC's own violations are (proto field path).
            Some(field) => {
                let mut violations = status::FieldViolations::new();
                violations.add(&field, "JSON_INVALID", message);
                violations.into_status()
            }
            None => status::status(Code::InvalidArgument, "JSON_INVALID", message),
        }
    };
    let mut json = serde_json::Deserializer::from_slice(&bytes);
    let mut track = serde_path_to_error::Track::new();
    let message = DynamicMessage::deserialize_with_options(
        method.input(),
        serde_path_to_error::Deserializer::new(&mut json, &mut track),
        &DeserializeOptions::new(),
    )
    .map_err(|e| invalid(e, field_path(&track.path())))?;
    json.end().map_err(|e| invalid(e, None))?;
    Ok(message)
}

/// The proto field path (`social_security_card.card_number`) of the JSON
/// path serde stopped at, if it stopped inside a field.
fn field_path(path: &serde_path_to_error::Path) -> Option<String> {
    use serde_path_to_error::Segment;
    let mut parts = Vec::new();
    for segment in path.iter() {
        match segment {
            Segment::Map { key } => parts.push(snake_case(key)),
            Segment::Seq { index } => match parts.last_mut() {
                Some(last) => last.push_str(&format!("[{index}]")),
                None => return None,
            },
            Segment::Enum { .. } | Segment::Unknown => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("."))
}

/// A lowerCamelCase JSON name as its proto field name.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The JSON of a unary answer: its one message, or its error.
async fn unary_answer<B>(
    method: &MethodDescriptor,
    answer: http::Response<B>,
) -> http::Response<Body>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = answer.into_parts();
    if let Some(refusal) = Status::from_header_map(&parts.headers).filter(|s| s.code() != Code::Ok)
    {
        return error::response(&refusal);
    }
    let collected = match body.collect().await {
        Ok(collected) => collected,
        Err(_) => return error::response(&broken("the answer was cut off")),
    };
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let data = collected.to_bytes();
    match Status::from_header_map(&trailers) {
        Some(s) if s.code() == Code::Ok => {}
        Some(refusal) => return error::response(&refusal),
        None => return error::response(&broken("the answer carried no status")),
    }
    let mut frames = stream::Frames::default();
    frames.push(&data);
    match (frames.next_message(), frames.is_empty()) {
        (Ok(Some(bytes)), true) => match DynamicMessage::decode(method.output(), bytes) {
            Ok(message) => json_response(&message),
            Err(_) => error::response(&broken("the answer did not decode")),
        },
        _ => error::response(&broken("the answer was not one message")),
    }
}

fn json_response(message: &DynamicMessage) -> http::Response<Body> {
    let mut json = serde_json::Serializer::new(Vec::new());
    match message.serialize_with_options(&mut json, &serialize_options()) {
        Ok(()) => error::with_body(http::StatusCode::OK, "application/json", json.into_inner()),
        Err(_) => error::response(&broken("the answer did not encode as JSON")),
    }
}

fn broken(what: &str) -> Status {
    tracing::error!(what, "json transcoding failed");
    status::status(Code::Internal, "JSON_TRANSCODING_FAILED", what.to_owned())
}

/// serde's message with every quoted value blanked (`invalid type: string
/// "…"`): a value may be personal data; field names (in backticks) stay.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        if c == '"' {
            if quoted {
                out.push('…');
            }
            quoted = !quoted;
            out.push(c);
        } else if !quoted {
            out.push(c);
        }
    }
    out
}
