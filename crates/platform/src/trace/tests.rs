//! The trace context read, continued, injected and carried.

use super::*;

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn headers(traceparent: &str) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert("traceparent", traceparent.parse().unwrap());
    headers
}

#[test]
fn a_valid_traceparent_is_continued_with_a_new_span() {
    let cx = Traces::default().server(&headers(PARENT), "/a.B/C");
    let span = cx.span().span_context().clone();
    assert_eq!(trace_id(&cx), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_ne!(span.span_id().to_string(), "00f067aa0ba902b7");
    assert!(span.is_sampled());
}

#[test]
fn a_malformed_or_missing_traceparent_starts_a_new_trace() {
    for bad in [
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "garbage",
    ] {
        let cx = Traces::default().server(&headers(bad), "/a.B/C");
        assert!(cx.span().span_context().is_valid(), "{bad}");
        assert_ne!(trace_id(&cx), "4bf92f3577b34da6a3ce929d0e0e4736");
    }
    let a = Traces::default().server(&http::HeaderMap::new(), "/a.B/C");
    let b = Traces::default().server(&http::HeaderMap::new(), "/a.B/C");
    assert_ne!(trace_id(&a), trace_id(&b));
}

#[test]
fn the_current_context_is_injected_and_carried_by_events() {
    let cx = Traces::default().server(&headers(PARENT), "/a.B/C");
    let _attached = cx.clone().attach();
    let mut metadata = tonic::metadata::MetadataMap::new();
    inject(&mut metadata);
    let sent = metadata.get("traceparent").unwrap().to_str().unwrap();
    let span_id = cx.span().span_context().span_id().to_string();
    assert_eq!(
        sent,
        format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{span_id}-01")
    );
    let (traceparent, _) = current_traceparent();
    assert_eq!(traceparent, sent);
    let consumer = Traces::default().consumer(&traceparent, "", "event");
    assert_eq!(trace_id(&consumer), "4bf92f3577b34da6a3ce929d0e0e4736");
}

#[test]
fn nothing_is_injected_outside_a_trace() {
    let mut metadata = tonic::metadata::MetadataMap::new();
    inject(&mut metadata);
    assert!(metadata.get("traceparent").is_none());
    assert_eq!(current_traceparent(), (String::new(), String::new()));
}
