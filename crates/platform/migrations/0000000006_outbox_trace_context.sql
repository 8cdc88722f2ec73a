-- The W3C trace context (`traceparent`, `tracestate`) of the call whose
-- change produced each event, sent with the event so that its consumer
-- continues that trace. NULL: the change was made outside any trace.
ALTER TABLE outbox ADD COLUMN traceparent text, ADD COLUMN tracestate text;
