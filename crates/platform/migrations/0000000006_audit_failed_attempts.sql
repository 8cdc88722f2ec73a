-- Failed attempts in the audit trail (issue 14, "no probing"): a caller
-- refused for what it presented (a card without its own identification
-- code, a holder check that failed) is recorded with access
-- 'FAILED_ATTEMPT', so an operator sees probing and the service can count a
-- caller's recent failures.
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_access_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_access_check
    CHECK (access IN ('READ', 'CHANGE', 'FAILED_ATTEMPT'));
CREATE INDEX IF NOT EXISTS audit_log_failed_attempts ON audit_log (actor_kind, actor_code, at)
    WHERE access = 'FAILED_ATTEMPT';
