//! Server-streaming answers as newline-delimited JSON: each gRPC message a
//! line as it arrives, and a refusal or a broken stream as a last line
//! `{"error": {…}}` (the body of [`super::error`]). A refusal before the
//! first message (trailers-only) is an ordinary JSON error with its HTTP
//! status.

use bytes::{Buf, Bytes, BytesMut};
use futures::StreamExt;
use http::header;
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use prost_reflect::{DynamicMessage, MethodDescriptor};
use serde_json::json;
use tonic::{Code, Status, body::Body};

use super::error;

/// gRPC length-prefixed frames, assembled from the body's data chunks.
#[derive(Default)]
pub(crate) struct Frames {
    buffer: BytesMut,
}

impl Frames {
    pub(crate) fn push(&mut self, data: &[u8]) {
        self.buffer.extend_from_slice(data);
    }

    /// The next whole message, `None` until one has arrived; a compressed
    /// frame is an error (we never compress).
    pub(crate) fn next_message(&mut self) -> Result<Option<Bytes>, ()> {
        if self.buffer.len() < 5 {
            return Ok(None);
        }
        if self.buffer[0] != 0 {
            return Err(());
        }
        let len = u32::from_be_bytes([
            self.buffer[1],
            self.buffer[2],
            self.buffer[3],
            self.buffer[4],
        ]) as usize;
        if self.buffer.len() < 5 + len {
            return Ok(None);
        }
        self.buffer.advance(5);
        Ok(Some(self.buffer.split_to(len).freeze()))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }
}

/// The NDJSON answer of a server-streaming RPC.
pub(crate) fn respond<B>(
    method: MethodDescriptor,
    answer: http::Response<B>,
) -> http::Response<Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = answer.into_parts();
    if let Some(refusal) = Status::from_header_map(&parts.headers).filter(|s| s.code() != Code::Ok)
    {
        return error::response(&refusal);
    }
    let output = method.output();
    let state = (Box::pin(body), Frames::default(), false);
    let lines = futures::stream::unfold(state, move |(mut body, mut frames, done)| {
        let output = output.clone();
        async move {
            if done {
                return None;
            }
            loop {
                match frames.next_message() {
                    Ok(Some(bytes)) => {
                        let line = match DynamicMessage::decode(output.clone(), bytes) {
                            Ok(message) => line_of(&message),
                            Err(_) => {
                                return Some((error_line(&broken()), (body, frames, true)));
                            }
                        };
                        return Some((line, (body, frames, false)));
                    }
                    Ok(None) => {}
                    Err(()) => return Some((error_line(&broken()), (body, frames, true))),
                }
                match body.frame().await {
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) => frames.push(&data),
                        Err(frame) => {
                            let trailers = frame.into_trailers().unwrap_or_default();
                            return match Status::from_header_map(&trailers) {
                                Some(s) if s.code() == Code::Ok => None,
                                Some(refusal) => Some((error_line(&refusal), (body, frames, true))),
                                None => Some((error_line(&broken()), (body, frames, true))),
                            };
                        }
                    },
                    Some(Err(_)) | None => {
                        return Some((error_line(&broken()), (body, frames, true)));
                    }
                }
            }
        }
    });
    let body = StreamBody::new(lines.map(|line| Ok::<_, Status>(Frame::data(line))));
    let mut response = http::Response::new(Body::new(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-ndjson"),
    );
    response
}

fn line_of(message: &DynamicMessage) -> Bytes {
    let mut json = serde_json::Serializer::new(Vec::new());
    if message
        .serialize_with_options(&mut json, &super::serialize_options())
        .is_err()
    {
        return error_line(&broken());
    }
    let mut line = json.into_inner();
    line.push(b'\n');
    line.into()
}

fn error_line(status: &Status) -> Bytes {
    let mut line = json!({ "error": error::body(status) })
        .to_string()
        .into_bytes();
    line.push(b'\n');
    line.into()
}

fn broken() -> Status {
    tracing::error!("json transcoding of a stream failed");
    crate::error::status(
        Code::Internal,
        "JSON_TRANSCODING_FAILED",
        "the stream was cut off or did not decode",
    )
}
