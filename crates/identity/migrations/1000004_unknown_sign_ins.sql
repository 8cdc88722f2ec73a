-- The delay state of ID numbers that have no online credential: wrong
-- "passwords" for them are delayed like wrong passwords for a known one.
-- Kept in each instance's memory before, so a second identity instance
-- answered an unknown ID number unlike a known one (whose state is in
-- online_credentials, shared by all): an oracle for who has an account.
-- Keyed by an HMAC of the ID number under a key derived from the session
-- token keys: no ID number is stored. Rows idle past the retention are
-- deleted by the service.
CREATE TABLE unknown_sign_ins (
    key bytea PRIMARY KEY,
    failed_attempts integer NOT NULL,
    locked_until timestamptz,
    updated_at timestamptz NOT NULL
);
CREATE INDEX unknown_sign_ins_updated_at ON unknown_sign_ins (updated_at);
