-- A caller's recent failed attempts (a card presented without its own
-- identification code, a holder check that failed) are counted to limit
-- probing: activation reads them per caller over a window.
CREATE INDEX IF NOT EXISTS audit_log_failed_attempts ON audit_log (actor_kind, actor_code, at)
    WHERE access = 'FAILED_ATTEMPT';
