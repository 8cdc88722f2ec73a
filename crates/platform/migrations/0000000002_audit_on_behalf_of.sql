-- When a service reads or changes a person's data for a caller of its own
-- (activation verifying a holder for a bank outlet), the caller it acted
-- for, `KIND:CODE`; the request id is then that caller's.
ALTER TABLE audit_log ADD COLUMN on_behalf_of text;
