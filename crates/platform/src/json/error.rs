//! A refusal as JSON: the gRPC code by name, the message, the `ErrorInfo`
//! reason and metadata, every `BadRequest` field violation, the
//! `RetryInfo` delay, and the HTTP status Google's APIs (and Connect) give
//! that code.
//!
//! ```json
//! {"code":"INVALID_ARGUMENT","message":"…","reason":"ID_NUMBER_FORMAT",
//!  "metadata":{},"fieldViolations":[{"field":"id_number","description":"…"}]}
//! ```

use http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};
use tonic::{Code, Status, body::Body};
use tonic_types::StatusExt;

/// The HTTP status for a gRPC code.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        // 499 Client Closed Request, as Google's APIs answer a cancelled call.
        Code::Cancelled => StatusCode::from_u16(499).expect("499 is a valid status"),
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `INVALID_ARGUMENT` for `Code::InvalidArgument`.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Every gRPC code name, for the document.
pub const CODE_NAMES: &[&str] = &[
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// The JSON object for `status`.
pub fn body(status: &Status) -> Value {
    let details = status.get_error_details();
    let mut body = Map::new();
    body.insert("code".into(), json!(code_name(status.code())));
    body.insert("message".into(), json!(status.message()));
    if let Some(info) = details.error_info() {
        body.insert("reason".into(), json!(info.reason));
        body.insert("metadata".into(), json!(info.metadata));
    }
    if let Some(bad) = details.bad_request() {
        let violations: Vec<Value> = bad
            .field_violations
            .iter()
            .map(|v| json!({"field": v.field, "description": v.description}))
            .collect();
        body.insert("fieldViolations".into(), Value::Array(violations));
    }
    if let Some(delay) = details.retry_info().and_then(|r| r.retry_delay) {
        body.insert(
            "retryDelay".into(),
            json!(format!("{}.{:03}s", delay.as_secs(), delay.subsec_millis())),
        );
    }
    Value::Object(body)
}

/// `status` as an HTTP answer: its HTTP status, the JSON body, and
/// `Retry-After` (whole seconds, rounded up) when it says when to retry.
pub fn response(status: &Status) -> http::Response<Body> {
    let mut response = with_body(
        http_status(status.code()),
        "application/json",
        body(status).to_string().into_bytes(),
    );
    if let Some(delay) = status
        .get_error_details()
        .retry_info()
        .and_then(|r| r.retry_delay)
    {
        let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    response
}

/// A request refused for its HTTP shape, before any RPC: HTTP 405 with
/// `Allow: POST` for another method than POST, or 415 for a content type
/// not taken (`CONTENT_TYPE_UNSUPPORTED`), saying `message`.
pub(crate) fn not_post(message: &'static str) -> http::Response<Body> {
    let mut refusal = response(&crate::error::status(
        Code::Unimplemented,
        "HTTP_METHOD_NOT_ALLOWED",
        message,
    ));
    *refusal.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    refusal
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    refusal
}

/// See [`not_post`].
pub(crate) fn unsupported_media_type(message: &'static str) -> http::Response<Body> {
    let mut refusal = response(&crate::error::status(
        Code::InvalidArgument,
        "CONTENT_TYPE_UNSUPPORTED",
        message,
    ));
    *refusal.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
    refusal
}

pub(crate) fn with_body(
    status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
) -> http::Response<Body> {
    let mut response = http::Response::new(Body::new(http_body_util::Full::new(
        bytes::Bytes::from(body),
    )));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
