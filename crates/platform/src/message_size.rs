//! A request message over `max_message_bytes` refused like every other
//! error: `RESOURCE_EXHAUSTED` with an `ErrorInfo` reason
//! (`MESSAGE_TOO_LARGE`, the limit in `metadata["max_message_bytes"]`).
//!
//! tonic refuses such a message itself, from the 5-byte frame header and
//! before reading the body, but answers a bare `OUT_OF_RANGE` ("Error,
//! decoded message length too large: …") without details. This layer
//! rewrites that answer. tonic sends a refusal made before the handler ran
//! as a trailers-only response, so the status is in the response headers;
//! the message text is the only thing that tells this refusal from an
//! `OUT_OF_RANGE` of our own (we have none), and a test in
//! `tests/tests/identity.rs` fails if a new tonic words it differently.

use std::{
    collections::HashMap,
    task::{Context, Poll},
};

use futures::future::BoxFuture;
use tonic::{Code, Status};
use tower::{Layer, Service};

use crate::error;

/// How tonic 0.14 words its refusal of a request over the decoding limit.
const TONIC_DECODE_TOO_LARGE: &str = "Error, decoded message length too large";

/// Rewrites tonic's refusal of a request message over `max_message_bytes`.
#[derive(Clone, Copy, Debug)]
pub struct MessageSizeLayer {
    max_message_bytes: usize,
}

impl MessageSizeLayer {
    pub fn new(max_message_bytes: usize) -> Self {
        Self { max_message_bytes }
    }
}

impl<S> Layer<S> for MessageSizeLayer {
    type Service = MessageSize<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MessageSize {
            inner,
            max_message_bytes: self.max_message_bytes,
        }
    }
}

#[derive(Clone, Debug)]
pub struct MessageSize<S> {
    inner: S,
    max_message_bytes: usize,
}

impl<S, B, R> Service<http::Request<B>> for MessageSize<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let max = self.max_message_bytes;
        let answer = self.inner.call(request);
        Box::pin(async move {
            let mut response = answer.await?;
            rewrite(response.headers_mut(), max);
            Ok(response)
        })
    }
}

/// The status for a request message over `max` bytes.
pub fn too_large(max: usize) -> Status {
    error::status_with_metadata(
        Code::ResourceExhausted,
        "MESSAGE_TOO_LARGE",
        format!("the request message is larger than this service's limit of {max} bytes"),
        HashMap::from([("max_message_bytes".to_owned(), max.to_string())]),
    )
}

/// Replaces tonic's own refusal of an oversized request in `headers`, if
/// that is what they carry.
fn rewrite(headers: &mut http::HeaderMap, max: usize) {
    // Most answers carry no status in their headers (it comes in trailers):
    // look closer only at a trailers-only OUT_OF_RANGE (code 11).
    if headers
        .get(Status::GRPC_STATUS)
        .is_none_or(|code| code.as_bytes() != b"11")
    {
        return;
    }
    let Some(status) = Status::from_header_map(headers) else {
        return;
    };
    if status.code() != Code::OutOfRange || !status.message().starts_with(TONIC_DECODE_TOO_LARGE) {
        return;
    }
    headers.remove(Status::GRPC_STATUS);
    headers.remove(Status::GRPC_MESSAGE);
    headers.remove(Status::GRPC_STATUS_DETAILS);
    tracing::info!(
        max_message_bytes = max,
        "request message too large; refused"
    );
    if let Err(e) = too_large(max).add_header(headers) {
        tracing::error!(error = %e, "could not write the refusal of an oversized message");
        let _ = status.add_header(headers);
    }
}

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt;

    use super::*;

    fn headers_of(status: &Status) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        status.add_header(&mut headers).unwrap();
        headers
    }

    #[test]
    fn out_of_range_is_code_11() {
        assert_eq!(Code::OutOfRange as i32, 11);
    }

    #[test]
    fn tonics_refusal_becomes_resource_exhausted_with_a_reason() {
        let mut headers = headers_of(&Status::out_of_range(
            "Error, decoded message length too large: found 5000 bytes, the limit is: 2048 bytes",
        ));
        rewrite(&mut headers, 2048);
        let status = Status::from_header_map(&headers).unwrap();
        assert_eq!(status.code(), Code::ResourceExhausted);
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, "MESSAGE_TOO_LARGE");
        assert_eq!(info.metadata["max_message_bytes"], "2048");
    }

    #[test]
    fn other_answers_are_left_alone() {
        for status in [
            Status::out_of_range("month out of range"),
            error::status(Code::InvalidArgument, "FIELD_TOO_LONG", "too long"),
        ] {
            let mut headers = headers_of(&status);
            let before = headers.clone();
            rewrite(&mut headers, 2048);
            assert_eq!(headers, before);
        }
        let mut ok = http::HeaderMap::new();
        rewrite(&mut ok, 2048);
        assert!(ok.is_empty());
    }
}
