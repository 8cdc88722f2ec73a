-- A check of a person's identity that did not match (VerifyHolder,
-- VerifyIdentity with a wrong ID number or name) is kept on the person's
-- trail as a failed attempt, not as a read.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_access_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_access_check
    CHECK (access IN ('READ', 'CHANGE', 'FAILED_ATTEMPT'));
