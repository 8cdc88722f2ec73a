-- Issue 14: contributions are collected by banks the bureau designates.
-- A bank partner with `collects_contributions` may record payments in the
-- contribution service; no other kind may hold it.
ALTER TABLE partners
    ADD COLUMN collects_contributions boolean NOT NULL DEFAULT false
    CHECK (NOT collects_contributions OR kind = 'bank');
