-- Events in commit order, so a reader never waits for unrelated work.
--
-- Before: readers delivered only events of transactions older than the
-- oldest transaction still running anywhere in the cluster
-- (pg_snapshot_xmin), so any long transaction (a monthly run, a stuck psql
-- session) froze every event stream.
--
-- Now: the statement that writes a transaction's events takes the next
-- positions from `outbox_head`, whose single row stays locked until that
-- transaction ends. The next writer's positions are therefore assigned only
-- after this one has committed (or rolled back, releasing its positions):
-- positions are gap-free and in commit order, and a reader may deliver every
-- visible event after its cursor at once.
CREATE TABLE outbox_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position  bigint  NOT NULL
);

ALTER TABLE outbox ADD COLUMN position bigint;
UPDATE outbox o SET position = n.position
FROM (SELECT seq, row_number() OVER (ORDER BY txid, seq) AS position FROM outbox) n
WHERE o.seq = n.seq;
INSERT INTO outbox_head (position) SELECT coalesce(max(position), 0) FROM outbox;
ALTER TABLE outbox ALTER COLUMN position SET NOT NULL;
CREATE UNIQUE INDEX outbox_position ON outbox (position);
-- outbox_order (txid, seq) stays: it turns a cursor issued before this
-- change into a position.
