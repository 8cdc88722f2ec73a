-- The audit trail and the outbox, partitioned by month (issue 18).
--
-- Both tables only grow (every eligibility check is an audit entry, every
-- change an event), and both are kept for a time and then let go. Deleting
-- old rows a batch at a time leaves the table and its indexes to vacuum and
-- costs as much as writing them did; partitioned by month, retention drops a
-- whole month's table at once, and the hot queries (the newest events, a
-- caller's failed attempts in the last minutes) touch the newest months only.
--
-- Months are China's calendar months (UTC+8, as everywhere in the system):
-- `audit_log_p2026_12` holds entries stamped from 2026-12-01 00:00 +08 up to
-- 2027-01-01 00:00 +08. `<table>_default` catches a row for a month that has
-- no partition yet (the services create the current month and the next two
-- at startup and hourly after, so it normally stays empty); the same hourly
-- task moves any rows found there into their own month's partition.
--
-- The functions below are the whole of partition maintenance; the services
-- call them (`platform::partitions`), contribution uses them for its ledger.

-- The partition key of `parent` and whether it is a date (else timestamptz).
CREATE FUNCTION month_partition_key(parent text, OUT key text, OUT is_date boolean)
LANGUAGE sql STABLE AS $$
    SELECT a.attname::text, a.atttypid = 'date'::regtype
    FROM pg_partitioned_table p
    JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
    WHERE p.partrelid = to_regclass(parent)
$$;

-- The bound of a month (its first instant), as a literal for the key's type.
CREATE FUNCTION month_partition_bound(month date, is_date boolean) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT quote_literal(CASE WHEN is_date THEN month::text ELSE month::text || ' 00:00:00+08' END)
$$;

-- Creates the partition of `parent` for the month of `month` unless it
-- exists; rows of that month waiting in the default partition move into it.
-- Returns whether it created one. One caller at a time per schema.
CREATE FUNCTION ensure_month_partition(parent text, month date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    first date := date_trunc('month', month)::date;
    name text := parent || '_p' || to_char(month, 'YYYY_MM');
    fallback text := parent || '_default';
    k record;
    lo text;
    hi text;
    waiting boolean := false;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '.month_partitions'));
    IF to_regclass(name) IS NOT NULL THEN
        RETURN false;
    END IF;
    SELECT * INTO STRICT k FROM month_partition_key(parent);
    lo := month_partition_bound(first, k.is_date);
    hi := month_partition_bound((first + interval '1 month')::date, k.is_date);
    IF to_regclass(fallback) IS NOT NULL THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= %s AND %I < %s)',
                       fallback, k.key, lo, k.key, hi)
            INTO waiting;
    END IF;
    IF NOT waiting THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                       name, parent, lo, hi);
        RETURN true;
    END IF;
    -- Rows of this month are in the default partition: move them into a new
    -- table, then attach it (attaching checks the default holds none left).
    EXECUTE format('LOCK TABLE %I IN EXCLUSIVE MODE', fallback);
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                   name, parent);
    EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= %s AND %I < %s RETURNING *)
                    INSERT INTO %I SELECT * FROM moved',
                   fallback, k.key, lo, k.key, hi, name);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)',
                   parent, name, lo, hi);
    RETURN true;
END
$$;

-- Creates the partitions of `parent` for this month (China's calendar) and
-- the `ahead` months after it, and one for every month that has rows in the
-- default partition. Returns how many it created.
CREATE FUNCTION ensure_month_partitions(parent text, ahead integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    this_month date := date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai')::date;
    k record;
    month date;
    created integer := 0;
BEGIN
    FOR i IN 0..ahead LOOP
        IF ensure_month_partition(parent, (this_month + make_interval(months => i))::date) THEN
            created := created + 1;
        END IF;
    END LOOP;
    IF to_regclass(parent || '_default') IS NOT NULL THEN
        SELECT * INTO STRICT k FROM month_partition_key(parent);
        FOR month IN EXECUTE format(
            'SELECT DISTINCT date_trunc(''month'', %s)::date FROM %I',
            CASE WHEN k.is_date THEN quote_ident(k.key)
                 ELSE quote_ident(k.key) || ' AT TIME ZONE ''Asia/Shanghai''' END,
            parent || '_default')
        LOOP
            IF ensure_month_partition(parent, month) THEN
                created := created + 1;
            END IF;
        END LOOP;
    END IF;
    RETURN created;
END
$$;

-- Drops the month partitions of `parent` whose whole month ended before
-- `cutoff` (a partition goes only when its newest possible row is older).
-- Returns the names dropped. The default partition is never dropped.
CREATE FUNCTION drop_month_partitions(parent text, cutoff timestamptz) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    part text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '.month_partitions'));
    FOR part IN
        SELECT c.relname::text
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = to_regclass(parent)
          AND c.relname ~ ('^' || parent || '_p[0-9]{4}_[0-9]{2}$')
          AND ((to_date(right(c.relname, 7), 'YYYY_MM') + interval '1 month')::timestamp
                  AT TIME ZONE 'Asia/Shanghai') <= cutoff
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE %I', part);
        RETURN NEXT part;
    END LOOP;
END
$$;

-- Creates the partitions for every month from `oldest` (NULL: none) to the
-- current month and two ahead, and the default partition.
CREATE FUNCTION create_month_partitions(parent text, oldest date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    this_month date := date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai')::date;
    month date := least(date_trunc('month', coalesce(oldest, this_month))::date, this_month);
BEGIN
    WHILE month <= this_month + interval '2 months' LOOP
        PERFORM ensure_month_partition(parent, month);
        month := (month + interval '1 month')::date;
    END LOOP;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', parent || '_default', parent);
END
$$;

-- The audit trail. The primary key must hold the partition key: (id, at).
-- Ids still come from one sequence, so an id names one entry; the trail is
-- listed by (subject_id, id). `audit_log_at` is not kept: it served the
-- row-by-row purge that dropping partitions replaces, and every audit insert
-- (one per eligibility check) paid for it.
ALTER TABLE audit_log RENAME TO audit_log_unpartitioned;
ALTER INDEX audit_log_pkey RENAME TO audit_log_unpartitioned_pkey;
ALTER INDEX audit_log_subject RENAME TO audit_log_unpartitioned_subject;
ALTER INDEX audit_log_failed_attempts RENAME TO audit_log_unpartitioned_failed_attempts;
CREATE TABLE audit_log (
    id           bigint      NOT NULL DEFAULT nextval('audit_log_id_seq'),
    at           timestamptz NOT NULL DEFAULT now(),
    actor_kind   text        NOT NULL,
    actor_code   text        NOT NULL,
    action       text        NOT NULL,
    access       text        NOT NULL
        CONSTRAINT audit_log_access_check CHECK (access IN ('READ', 'CHANGE', 'FAILED_ATTEMPT')),
    subject_id   text        NOT NULL,
    request_id   text,
    on_behalf_of text,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
CREATE INDEX audit_log_subject ON audit_log (subject_id, id);
CREATE INDEX audit_log_failed_attempts ON audit_log (actor_kind, actor_code, at)
    WHERE access = 'FAILED_ATTEMPT';
SELECT create_month_partitions('audit_log',
    (SELECT min(at AT TIME ZONE 'Asia/Shanghai')::date FROM audit_log_unpartitioned));
INSERT INTO audit_log (id, at, actor_kind, actor_code, action, access, subject_id, request_id,
                       on_behalf_of)
SELECT id, at, actor_kind, actor_code, action, access, subject_id, request_id, on_behalf_of
FROM audit_log_unpartitioned;
DROP TABLE audit_log_unpartitioned;

-- The outbox. Primary key (seq, occurred_at). Positions are given by the
-- sequencer alone (one at a time, from `outbox_head`), so their index is no
-- longer declared unique (a unique index must hold the partition key); the
-- readers' `position > $cursor ORDER BY position` merges the months' indexes
-- in order, so an event numbered after the month turned but stamped before
-- it (its transaction began before midnight) is still delivered in order.
ALTER TABLE outbox RENAME TO outbox_unpartitioned;
ALTER INDEX outbox_pkey RENAME TO outbox_unpartitioned_pkey;
ALTER INDEX outbox_order RENAME TO outbox_unpartitioned_order;
ALTER INDEX outbox_position RENAME TO outbox_unpartitioned_position;
ALTER INDEX outbox_unnumbered RENAME TO outbox_unpartitioned_unnumbered;
CREATE TABLE outbox (
    seq         bigint      NOT NULL DEFAULT nextval('outbox_seq_seq'),
    txid        xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_type  text        NOT NULL,
    payload     bytea       NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    position    bigint,
    traceparent text,
    tracestate  text,
    PRIMARY KEY (seq, occurred_at)
) PARTITION BY RANGE (occurred_at);
ALTER SEQUENCE outbox_seq_seq OWNED BY outbox.seq;
CREATE INDEX outbox_order ON outbox (txid, seq);
CREATE INDEX outbox_position ON outbox (position) WHERE position IS NOT NULL;
CREATE INDEX outbox_unnumbered ON outbox (seq) WHERE position IS NULL;
SELECT create_month_partitions('outbox',
    (SELECT min(occurred_at AT TIME ZONE 'Asia/Shanghai')::date FROM outbox_unpartitioned));
INSERT INTO outbox (seq, txid, event_type, payload, occurred_at, position, traceparent, tracestate)
SELECT seq, txid, event_type, payload, occurred_at, position, traceparent, tracestate
FROM outbox_unpartitioned;
DROP TABLE outbox_unpartitioned;
