//! A call as a partner makes it: waiting a while for the answer, telling
//! a passing refusal (worth sending again) from a final one, and saying
//! who refused (a service, or the client when no service answered).

use std::{
    future::Future,
    time::{Duration, Instant},
};

use socsec_bench::services::as_caller;
use socsec_fixtures::reason;
use tonic::{Code, Request, Response, Status};

/// How long a partner waits for an answer.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// What a call no answer came to in time ends with.
const GAVE_UP: &str = "no answer in time";

/// Whether a refusal is one a partner retries.
pub fn passing(code: Code) -> bool {
    !matches!(
        code,
        Code::InvalidArgument
            | Code::FailedPrecondition
            | Code::NotFound
            | Code::AlreadyExists
            | Code::OutOfRange
            | Code::Unimplemented
    )
}

/// The `ErrorInfo` reason of a refusal; for a call no service answered,
/// what the client saw instead.
pub fn why(status: &Status) -> String {
    let reason = reason(status);
    if !reason.is_empty() {
        return reason;
    }
    // A status made by the client from a transport error keeps that error;
    // one a server sent has none.
    if std::error::Error::source(status).is_some() || status.message() == GAVE_UP {
        return format!("[client: {}]", status.message());
    }
    String::new()
}

/// `call`, given [`CALL_TIMEOUT`] (sent as the gRPC deadline too), and how
/// long it took.
pub async fn timed<T>(
    call: impl Future<Output = Result<Response<T>, Status>>,
) -> (Result<T, Status>, Duration) {
    let started = Instant::now();
    let answer = match tokio::time::timeout(CALL_TIMEOUT + Duration::from_millis(500), call).await {
        Ok(answer) => answer.map(Response::into_inner),
        Err(_) => Err(Status::deadline_exceeded(GAVE_UP)),
    };
    (answer, started.elapsed())
}

pub fn request<T>(caller: &str, message: T) -> Request<T> {
    let mut request = as_caller(caller, message);
    request.set_timeout(CALL_TIMEOUT);
    request
}
