-- Tables the platform keeps in every service's schema.

-- A partner's request id, claimed in the same transaction as the effect it
-- caused, with the answer given. A retry finds the answer here.
CREATE TABLE idempotency_keys (
    caller       text        NOT NULL,
    request_id   text        NOT NULL,
    rpc          text        NOT NULL,
    request_hash bytea       NOT NULL,
    response     bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, request_id)
);

-- Who read or changed whose personal data, when, and why.
CREATE TABLE audit_log (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_kind  text        NOT NULL,
    actor_code  text        NOT NULL,
    action      text        NOT NULL,
    access      text        NOT NULL CHECK (access IN ('READ', 'CHANGE')),
    subject_id  text        NOT NULL,
    request_id  text
);
CREATE INDEX audit_log_subject ON audit_log (subject_id, id);
CREATE INDEX audit_log_at ON audit_log (at);

-- Events written in the same transaction as the change they describe.
-- Consumers read in (txid, seq) order, only below the oldest transaction
-- still running, so an event committed late is never skipped.
CREATE TABLE outbox (
    seq         bigserial   PRIMARY KEY,
    txid        xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_type  text        NOT NULL,
    payload     bytea       NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_order ON outbox (txid, seq);
