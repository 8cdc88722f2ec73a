-- Electronic social security cards: one per card, bound to it for good.
-- Whether one works is its card's status (received = in force), read at
-- each use, so a card lost, replaced or cancelled stops its e-card in the
-- same commit. A replacement card gets an e-card of its own.
CREATE TABLE ecards (
    ecard_id   uuid PRIMARY KEY,
    card_number text NOT NULL UNIQUE REFERENCES cards (card_number),
    person_id  uuid NOT NULL,
    issued_at  timestamptz NOT NULL,
    issued_by  text NOT NULL
);

-- Tokens presented once (activation, registration): the nonce of each, who
-- presented it under which request id (so that partner's retry of that
-- request is answered again), until when the token was valid (a row whose
-- token has expired is deleted by a later use: the token is refused as expired).
CREATE TABLE ecard_token_uses (
    nonce      uuid PRIMARY KEY,
    ecard_id   uuid NOT NULL REFERENCES ecards (ecard_id),
    used_by    text NOT NULL,
    request_id text NOT NULL,
    used_at    timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX ecard_token_uses_expiry ON ecard_token_uses (expires_at);
