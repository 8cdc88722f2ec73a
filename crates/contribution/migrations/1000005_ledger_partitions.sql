-- The ledger, partitioned by the month it books (`period`), with the
-- platform's month partition functions (platform migration 7). A monthly
-- run writes into one month's partition and reads what that month already
-- booked from it alone; statements and bills read a person's or payer's
-- months by index in the months they name.
--
-- The ledger is the fund's book: no retention applies to it, and nothing
-- drops its partitions. Months with no partition yet (a run for a period
-- before this migration's oldest, history brought by an import) land in
-- `ledger_entries_default` and are moved into their own month by the
-- services' hourly partition maintenance.
--
-- The primary key must hold the partition key: (entry_id, period). Nothing
-- refers to a ledger entry by its id alone, and nothing inserts with
-- ON CONFLICT on it.
ALTER TABLE ledger_entries RENAME TO ledger_entries_unpartitioned;
ALTER INDEX ledger_entries_pkey RENAME TO ledger_entries_unpartitioned_pkey;
ALTER INDEX ledger_person RENAME TO ledger_unpartitioned_person;
ALTER INDEX ledger_payer RENAME TO ledger_unpartitioned_payer;
ALTER INDEX ledger_enrolment RENAME TO ledger_unpartitioned_enrolment;
ALTER INDEX ledger_contract RENAME TO ledger_unpartitioned_contract;
CREATE TABLE ledger_entries (
    entry_id       bigint      NOT NULL DEFAULT nextval('ledger_entries_entry_id_seq'),
    person_id      uuid        NOT NULL,
    enrolment_id   uuid,
    contract_id    uuid,
    region_code    text        NOT NULL,
    period         date        NOT NULL,
    insurance_type text,
    part           text        NOT NULL,
    account        text        NOT NULL
        CONSTRAINT ledger_entries_account_check
        CHECK (account IN ('POOLING_FUND', 'INDIVIDUAL_ACCOUNT', 'SERVICE_FEE')),
    payer          text        NOT NULL,
    base_fen       bigint      NOT NULL,
    rate_bp        integer     NOT NULL,
    amount_fen     bigint      NOT NULL,
    kind           text        NOT NULL
        CONSTRAINT ledger_entries_kind_check CHECK (kind IN ('CONTRIBUTION', 'ADJUSTMENT', 'FEE')),
    run_request_id text        NOT NULL,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (entry_id, period)
) PARTITION BY RANGE (period);
ALTER SEQUENCE ledger_entries_entry_id_seq OWNED BY ledger_entries.entry_id;
CREATE INDEX ledger_person ON ledger_entries (person_id, period);
CREATE INDEX ledger_payer ON ledger_entries (payer, period);
CREATE INDEX ledger_enrolment ON ledger_entries (enrolment_id, period, part);
CREATE INDEX ledger_contract ON ledger_entries (contract_id, period)
    WHERE contract_id IS NOT NULL;
SELECT create_month_partitions('ledger_entries',
    (SELECT min(period) FROM ledger_entries_unpartitioned));
INSERT INTO ledger_entries (entry_id, person_id, enrolment_id, contract_id, region_code, period,
    insurance_type, part, account, payer, base_fen, rate_bp, amount_fen, kind, run_request_id,
    created_at)
SELECT entry_id, person_id, enrolment_id, contract_id, region_code, period, insurance_type, part,
    account, payer, base_fen, rate_bp, amount_fen, kind, run_request_id, created_at
FROM ledger_entries_unpartitioned;
DROP TABLE ledger_entries_unpartitioned;
