-- Fail closed under faults (issue 13).

-- How far each upstream stream is applied: the position of the last event
-- (cursors only move forward, whichever instance writes them) and the
-- instant of the stream's last heartbeat applied with it: every event the
-- upstream committed before `caught_up_at` is in the projection. Every
-- instance reads it to judge whether its projection may answer.
ALTER TABLE projection_cursors
    ADD COLUMN position     bigint NOT NULL DEFAULT 0,
    ADD COLUMN caught_up_at timestamptz;

-- Each projected row keeps the position of the event that last changed it;
-- an older or equal position never overwrites it (a rewound cursor, or a
-- second instance replaying a batch, cannot turn LOST back into ISSUED).
ALTER TABLE cards        ADD COLUMN position bigint NOT NULL DEFAULT 0;
ALTER TABLE legacy_cards ADD COLUMN position bigint NOT NULL DEFAULT 0;
ALTER TABLE partners     ADD COLUMN position bigint NOT NULL DEFAULT 0;
CREATE INDEX partners_position ON partners (position);

-- The relay's queue: an opaque id per entry (the request id sent to
-- card-issuance is built from it, never from the old card's number, which
-- may be an ID number), a schedule of its own (backoff with jitter), and
-- entries card-issuance refused for good parked where an operator sees them.
ALTER TABLE legacy_retirements
    ADD COLUMN relay_id        uuid        NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_error      text,
    ADD COLUMN parked_at       timestamptz;
CREATE UNIQUE INDEX legacy_retirements_relay_id ON legacy_retirements (relay_id);
CREATE INDEX legacy_retirements_due ON legacy_retirements (next_attempt_at)
    WHERE parked_at IS NULL;
