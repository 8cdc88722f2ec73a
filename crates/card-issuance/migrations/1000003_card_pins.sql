-- The medical-settlement PIN of a card: an argon2id hash, never the PIN.
-- A PIN follows its card: a replacement card (a new card number) starts
-- without one; a lost, replaced or cancelled card's PIN is never checked.
CREATE TABLE card_pins (
    card_number     text        PRIMARY KEY REFERENCES cards,
    pin_hash        text        NOT NULL,
    -- Wrong PINs in a row; at 5 the PIN is locked until reset at the counter.
    failed_attempts integer     NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    set_at          timestamptz NOT NULL,
    set_by          text        NOT NULL
);
