-- Events numbered in commit order, so a reader never waits for unrelated work.
--
-- Before: readers delivered only events of transactions older than the
-- oldest transaction still running anywhere in the cluster
-- (pg_snapshot_xmin), so any long transaction (a monthly run, a stuck psql
-- session) froze every event stream.
--
-- Now: writers insert events without a position. A sequencer (run by the
-- stream readers, one at a time under an advisory lock) gives every
-- committed, unnumbered event the next positions from `outbox_head`, in
-- insertion order, in a short transaction of its own. Positions are
-- therefore gap-free and only ever assigned to committed events, and a
-- reader may deliver every numbered event after its cursor at once. An
-- event that depends on an earlier one (a loss after an issue) was inserted
-- after the earlier one committed, so it is numbered after it.
CREATE TABLE outbox_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position  bigint  NOT NULL
);

ALTER TABLE outbox ADD COLUMN position bigint;
UPDATE outbox o SET position = n.position
FROM (SELECT seq, row_number() OVER (ORDER BY txid, seq) AS position FROM outbox) n
WHERE o.seq = n.seq;
INSERT INTO outbox_head (position) SELECT coalesce(max(position), 0) FROM outbox;
CREATE UNIQUE INDEX outbox_position ON outbox (position) WHERE position IS NOT NULL;
CREATE INDEX outbox_unnumbered ON outbox (seq) WHERE position IS NULL;
-- outbox_order (txid, seq) stays: it turns a cursor issued before this
-- change into a position.
