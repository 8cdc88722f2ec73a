-- Persons' online sessions. A session token names its session; the token
-- is honoured only while the session is live (not ended, not expired):
-- signing out, an operator's revocation and a password change end it.
CREATE TABLE sessions (
    session_id uuid        PRIMARY KEY,
    person_id  uuid        NOT NULL REFERENCES persons,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    ended_at   timestamptz,
    -- Who ended it (`person:<id>`, `operator:<code>`) and why.
    ended_by   text,
    end_reason text
);

CREATE INDEX sessions_live_by_person ON sessions (person_id) WHERE ended_at IS NULL;
