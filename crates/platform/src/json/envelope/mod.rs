//! The medical-insurance platform's envelope (NHSA style) for hospital HIS
//! and pharmacy POS software: one endpoint, `POST
//! /fsi/api/rsfComIfsService/callService`, the transaction named by a
//! 4-digit `infno` in the body, business errors in the body (`infcode`,
//! `err_msg`) under HTTP 200.
//!
//! Not a second implementation: the service that owns the answer says
//! which RPC each `infno` is and how `input.data` becomes that RPC's
//! request ([`Transactions`]); the request is then sent as a JSON call of
//! that RPC through [`super::transcode`] — the very stack every gRPC and
//! JSON call takes (certificate identity, authorization, idempotency with
//! `msgid` as the request id, audit, limits, metrics) — and its answer or
//! refusal is wrapped back into the envelope.
//!
//! The caller is still the one the mutual-TLS certificate names: an
//! envelope without a client certificate, or whose `fixmedins_code` is not
//! the institution the certificate names, is refused before any RPC.

mod answer;

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, header};
use http_body_util::{BodyExt, Full, Limited};
use serde_json::{Map, Value};
use tonic::{
    body::Body,
    transport::server::{TcpConnectInfo, TlsConnectInfo},
};
use tower::Service;
use x509_parser::prelude::{FromDer, X509Certificate};

use self::answer::{answer, now, read_answer};

/// Where the envelope is posted.
pub const PATH: &str = "/fsi/api/rsfComIfsService/callService";

/// An envelope, its fields checked; `data` is `input.data` (personal
/// data: no `Debug`).
pub struct Envelope {
    pub infno: String,
    pub msgid: String,
    pub fixmedins_code: String,
    pub inf_time: String,
    pub opter: String,
    pub data: Map<String, Value>,
}

impl Envelope {
    /// `input.data.<field>` as a string: absent or empty is `None`; not a
    /// string is a refusal naming the field.
    pub fn text(&self, field: &str) -> Result<Option<&str>, Refusal> {
        match self.data.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Refusal::field(
                &format!("input.data.{field}"),
                "must be a string",
            )),
        }
    }

    /// `input.data.<field>`, required.
    pub fn required(&self, field: &str) -> Result<&str, Refusal> {
        self.text(field)?
            .ok_or_else(|| Refusal::field(&format!("input.data.{field}"), "is required"))
    }
}

/// A refusal in the envelope: `infcode` -1, `err_msg` (never personal
/// data), and our machine-readable `err_reason`.
#[derive(Clone, Debug)]
pub struct Refusal {
    pub reason: String,
    pub message: String,
    /// The RPC refusal's `ErrorInfo` metadata, if it came from the RPC.
    pub metadata: Map<String, Value>,
    pub retry_delay: Option<String>,
}

impl Refusal {
    pub fn new(reason: &str, message: impl Into<String>) -> Self {
        Self {
            reason: reason.to_owned(),
            message: message.into(),
            metadata: Map::new(),
            retry_delay: None,
        }
    }

    /// A malformed envelope field.
    pub fn field(field: &str, description: &str) -> Self {
        Self::new("ENVELOPE_INVALID", format!("{field}: {description}"))
    }
}

/// What an `infno` is here: the RPC, its request in proto3 JSON, how the
/// RPC's field names read in the envelope (for error messages), and how its
/// answer (proto3 JSON with proto field names) becomes `output`.
pub struct Route {
    /// `/socsec.x.v1.XService/Method`.
    pub rpc: &'static str,
    pub request: Value,
    /// `(RPC field, envelope field)`, e.g. `("card_identification_code",
    /// "input.data.card_sn")`.
    pub fields: &'static [(&'static str, &'static str)],
    pub output: Output,
}

/// Turns the RPC's answer (or refusal) into the envelope's `output` (or
/// refusal).
pub type Output = Box<dyn FnOnce(Result<Value, Refusal>) -> Result<Value, Refusal> + Send>;

/// The transactions a service serves through the envelope.
pub trait Transactions: Send + Sync + 'static {
    /// The route of `envelope`'s `infno`, or why there is none.
    fn route(&self, envelope: &Envelope) -> Result<Route, Refusal>;
}

pub type Adapter = Arc<dyn Transactions>;

/// Answers one envelope posted to [`PATH`]: always HTTP 200 with the
/// envelope answer (the platform's convention), but for a method other
/// than POST (405).
pub(super) async fn call<S, B>(
    inner: S,
    adapter: Adapter,
    request: http::Request<Body>,
    max_message_bytes: usize,
) -> Result<http::Response<Body>, S::Error>
where
    S: Service<http::Request<Body>, Response = http::Response<B>>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let received = now();
    if request.method() != Method::POST {
        return Ok(super::error::not_post("the envelope is posted"));
    }
    if let Some(refusal) = cross_site(request.headers()) {
        return Ok(refusal);
    }
    let (mut parts, body) = request.into_parts();
    let bytes = match Limited::new(body, max_message_bytes).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let refusal = Refusal::new(
                "MESSAGE_TOO_LARGE",
                format!("the body could not be read in {max_message_bytes} bytes"),
            );
            return Ok(answer(&received, Err(refusal)));
        }
    };
    let envelope = match parse(&bytes) {
        Ok(envelope) => envelope,
        Err(refusal) => return Ok(answer(&received, Err(refusal))),
    };
    if let Err(refusal) = same_institution(&parts, &envelope) {
        return Ok(answer(&received, Err(refusal)));
    }
    let route = match adapter.route(&envelope) {
        Ok(route) => route,
        Err(refusal) => return Ok(answer(&received, Err(refusal))),
    };
    parts.method = Method::POST;
    parts.uri = match route.rpc.parse() {
        Ok(uri) => uri,
        Err(_) => {
            let refusal = Refusal::new("ENVELOPE_ROUTE_INVALID", "the transaction has no route");
            return Ok(answer(&received, Err(refusal)));
        }
    };
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    let rpc_request = http::Request::from_parts(
        parts,
        Body::new(Full::new(Bytes::from(route.request.to_string()))),
    );
    let rpc_answer = super::transcode(inner, rpc_request, max_message_bytes).await?;
    let result = read_answer(rpc_answer, route.fields).await;
    Ok(answer(&received, (route.output)(result)))
}

/// A body a web page could have sent from another site without the
/// browser asking first (no content type, or one of the three a form or a
/// plain `fetch` may send): refused before it is read, HTTP 415, so a
/// hospital workstation holding its client certificate cannot be made to
/// post an envelope by a page it visits. Every other content type is
/// taken (vendor libraries vary; the path says it is an envelope).
fn cross_site(headers: &http::HeaderMap) -> Option<http::Response<Body>> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let simple = [
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ];
    if !simple.contains(&media_type.as_str()) {
        return None;
    }
    Some(super::error::unsupported_media_type(
        "send the envelope with content-type: application/json",
    ))
}

/// The envelope in `bytes`, every malformed field named at once.
fn parse(bytes: &[u8]) -> Result<Envelope, Refusal> {
    let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(bytes) else {
        return Err(Refusal::new(
            "ENVELOPE_INVALID",
            "the body is not a JSON object (the envelope)",
        ));
    };
    let mut problems = Vec::new();
    let mut text = |field: &str, check: fn(&str) -> Result<(), &'static str>| -> String {
        match body.get(field) {
            Some(Value::String(s)) if !s.is_empty() => match check(s) {
                Ok(()) => s.clone(),
                Err(why) => {
                    problems.push(format!("{field}: {why}"));
                    String::new()
                }
            },
            Some(Value::Number(n)) if field == "infno" => n.to_string(),
            None | Some(Value::Null) => {
                problems.push(format!("{field}: is required"));
                String::new()
            }
            Some(Value::String(_)) => {
                problems.push(format!("{field}: is required"));
                String::new()
            }
            Some(_) => {
                problems.push(format!("{field}: must be a string"));
                String::new()
            }
        }
    };
    let infno = text("infno", |s| {
        (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
            .then_some(())
            .ok_or("must be 4 digits")
    });
    let msgid = text("msgid", |s| {
        (s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b)))
        .then_some(())
        .ok_or("must be 1 to 64 characters of A-Z a-z 0-9 . _ : -")
    });
    let fixmedins_code = text("fixmedins_code", |s| {
        (s.chars().count() <= 64)
            .then_some(())
            .ok_or("must be at most 64 characters")
    });
    let inf_time = text("inf_time", |s| {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .map(|_| ())
            .map_err(|_| "must be yyyy-MM-dd HH:mm:ss")
    });
    let opter = text("opter", |s| {
        (s.chars().count() <= 64)
            .then_some(())
            .ok_or("must be at most 64 characters")
    });
    let data = match body.get_mut("input").and_then(|i| i.get_mut("data")) {
        Some(Value::Object(data)) => std::mem::take(data),
        Some(_) => {
            problems.push("input.data: must be an object".into());
            Map::new()
        }
        None => {
            problems.push("input.data: is required".into());
            Map::new()
        }
    };
    if !problems.is_empty() {
        return Err(Refusal::new("ENVELOPE_INVALID", problems.join("; ")));
    }
    Ok(Envelope {
        infno,
        msgid,
        fixmedins_code,
        inf_time,
        opter,
        data,
    })
}

/// Refuses an envelope whose `fixmedins_code` is not the institution the
/// client certificate names (the auth layer then checks the certificate
/// itself — issuer, revocation, registration — as for every call).
fn same_institution(parts: &http::request::Parts, envelope: &Envelope) -> Result<(), Refusal> {
    let certificate = parts
        .extensions
        .get::<TlsConnectInfo<TcpConnectInfo>>()
        .and_then(|info| info.peer_certs())
        .and_then(|chain| chain.first().cloned())
        .ok_or_else(|| {
            Refusal::new(
                "CERTIFICATE_REQUIRED",
                "the envelope is accepted only with the institution's client certificate",
            )
        })?;
    let named = X509Certificate::from_der(&certificate)
        .map_err(|_| {
            Refusal::new(
                "CERTIFICATE_IDENTITY_INVALID",
                "the client certificate cannot be parsed",
            )
        })
        .and_then(|(_, cert)| {
            crate::tls::caller_named_by(&cert)
                .map_err(|s| Refusal::new("CERTIFICATE_IDENTITY_INVALID", s.message()))
        })?;
    if named.code != envelope.fixmedins_code {
        return Err(Refusal::new(
            "FIXMEDINS_CODE_MISMATCH",
            "fixmedins_code is not the institution named by the client certificate",
        ));
    }
    Ok(())
}
