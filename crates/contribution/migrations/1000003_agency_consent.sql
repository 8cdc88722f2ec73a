-- Agency contracts need the person's consent and have an end.
--
-- A contract registered by an agency is pending (confirmed_at NULL) until
-- the person confirms it with their own session, or an operator at the
-- counter; one registered by an operator is confirmed at once. Ended early
-- (ended_at), its end_period is moved back; a contract ended before it took
-- effect has end_period before start_period.
ALTER TABLE agency_contracts
    ADD COLUMN registered_by text,
    ADD COLUMN confirmed_at  timestamptz,
    ADD COLUMN confirmed_by  text,
    ADD COLUMN ended_at      timestamptz,
    ADD COLUMN ended_by      text;

-- Contracts registered before consent existed are taken as confirmed: the
-- agency has been enrolling, billed and paying for these clients every
-- month, and making them pending would stop their contributions (a gap in
-- their insurance and arrears) until each person signs in. Who registered
-- them was not recorded. What made them dangerous no longer holds: the
-- person can end any of them (EndAgencyContract), sees them
-- (ListAgencyContracts), and their own enrolment now ends an agency's.
-- `confirmed_by` says where the consent came from.
UPDATE agency_contracts
SET confirmed_at = created_at, confirmed_by = 'migration:1000003';

-- Every contract ends. An open-ended one gets 36 months from its start, but
-- at least until the end of the twelfth month from now, so that no running
-- contract stops without notice: the agency has a year to have its clients
-- sign a new contract.
UPDATE agency_contracts
SET end_period = GREATEST(
        start_period + interval '35 months',
        date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') + interval '11 months')::date
WHERE end_period IS NULL;
ALTER TABLE agency_contracts ALTER COLUMN end_period SET NOT NULL;

-- The agency enrolments end with their contract.
UPDATE enrolments e
SET end_period = LEAST(COALESCE(e.end_period, c.end_period), c.end_period)
FROM agency_contracts c
WHERE e.contract_id = c.contract_id;

-- An agency has at most one contract awaiting a person's consent: a second
-- registration while one is pending is refused (CONTRACT_PENDING), so an
-- agency cannot flood a person's list.
CREATE UNIQUE INDEX agency_contracts_one_pending ON agency_contracts (agency_code, person_id)
    WHERE confirmed_at IS NULL AND ended_at IS NULL;
CREATE INDEX agency_contracts_person ON agency_contracts (person_id, contract_id);

-- Service fees by contract (when a contract was last billed, and the run's
-- "once per month" check).
CREATE INDEX ledger_contract ON ledger_entries (contract_id, period)
    WHERE contract_id IS NOT NULL;
CREATE INDEX enrolments_contract ON enrolments (contract_id) WHERE contract_id IS NOT NULL;
