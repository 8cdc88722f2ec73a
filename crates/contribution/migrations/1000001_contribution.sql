-- Money is bigint fen throughout; rates are basis points (1/100 %).
-- Periods are the first day of their month.

CREATE TABLE agency_contracts (
    contract_id     uuid        PRIMARY KEY,
    agency_code     text        NOT NULL,
    person_id       uuid        NOT NULL,
    service_fee_fen bigint      NOT NULL CHECK (service_fee_fen >= 0),
    start_period    date        NOT NULL,
    end_period      date,
    created_at      timestamptz NOT NULL
);
CREATE INDEX agency_contracts_agency ON agency_contracts (agency_code, person_id);

CREATE TABLE enrolments (
    enrolment_id   uuid        PRIMARY KEY,
    person_id      uuid        NOT NULL,
    region_code    text        NOT NULL,
    insurance_type text        NOT NULL,
    scheme         text        NOT NULL CHECK (scheme IN ('EMPLOYEE', 'FLEXIBLE', 'AGENCY')),
    employer_code  text,
    contract_id    uuid        REFERENCES agency_contracts,
    -- Who is billed: 'employer:CODE', 'hr_agency:CODE' or 'person:<id>'.
    payer          text        NOT NULL,
    start_period   date        NOT NULL,
    end_period     date,
    channel        text        NOT NULL,
    created_at     timestamptz NOT NULL
);
CREATE INDEX enrolments_person ON enrolments (person_id, insurance_type);
CREATE INDEX enrolments_region ON enrolments (region_code, enrolment_id);

-- Each version of a region's rates for a type and year. Never updated.
CREATE TABLE rate_tables (
    region_code              text    NOT NULL,
    insurance_type           text    NOT NULL,
    year                     integer NOT NULL,
    version                  integer NOT NULL,
    employer_rate_bp         integer NOT NULL CHECK (employer_rate_bp BETWEEN 0 AND 10000),
    employee_rate_bp         integer NOT NULL CHECK (employee_rate_bp BETWEEN 0 AND 10000),
    flexible_rate_bp         integer NOT NULL CHECK (flexible_rate_bp BETWEEN 0 AND 10000),
    flexible_individual_bp   integer NOT NULL CHECK (flexible_individual_bp BETWEEN 0 AND flexible_rate_bp),
    average_wage_fen         bigint  NOT NULL CHECK (average_wage_fen > 0),
    floor_percent            integer NOT NULL,
    ceiling_percent          integer NOT NULL CHECK (ceiling_percent >= floor_percent),
    rounding                 text    NOT NULL CHECK (rounding IN ('HALF_UP_FEN', 'UP_JIAO')),
    due_day_of_next_month    integer NOT NULL CHECK (due_day_of_next_month BETWEEN 0 AND 28),
    created_at               timestamptz NOT NULL,
    PRIMARY KEY (region_code, insurance_type, year, version)
);

-- The rate version a region's month was first computed with: reruns use it,
-- so a later change of the table never rewrites what was computed.
CREATE TABLE run_rates (
    region_code    text    NOT NULL,
    period         date    NOT NULL,
    insurance_type text    NOT NULL,
    version        integer NOT NULL,
    PRIMARY KEY (region_code, period, insurance_type)
);

-- Every wage declaration; the latest per month is also in current_wages.
CREATE TABLE wage_declarations (
    person_id   uuid        NOT NULL,
    period      date        NOT NULL,
    version     integer     NOT NULL,
    wage_fen    bigint      NOT NULL CHECK (wage_fen >= 0),
    declared_by text        NOT NULL,
    declared_at timestamptz NOT NULL,
    request_id  text        NOT NULL,
    PRIMARY KEY (person_id, period, version)
);
CREATE TABLE current_wages (
    person_id uuid   NOT NULL,
    period    date   NOT NULL,
    wage_fen  bigint NOT NULL,
    PRIMARY KEY (person_id, period)
);

-- The ledger: append only. A month's amount for one part is the sum of its
-- entries (the contribution and any later adjustments).
CREATE TABLE ledger_entries (
    entry_id       bigserial   PRIMARY KEY,
    person_id      uuid        NOT NULL,
    enrolment_id   uuid,
    contract_id    uuid,
    region_code    text        NOT NULL,
    period         date        NOT NULL,
    insurance_type text,
    part           text        NOT NULL,
    account        text        NOT NULL CHECK (account IN ('POOLING_FUND', 'INDIVIDUAL_ACCOUNT', 'SERVICE_FEE')),
    payer          text        NOT NULL,
    base_fen       bigint      NOT NULL,
    rate_bp        integer     NOT NULL,
    amount_fen     bigint      NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('CONTRIBUTION', 'ADJUSTMENT', 'FEE')),
    run_request_id text        NOT NULL,
    created_at     timestamptz NOT NULL
);
CREATE INDEX ledger_person ON ledger_entries (person_id, period);
CREATE INDEX ledger_payer ON ledger_entries (payer, period);
CREATE INDEX ledger_enrolment ON ledger_entries (enrolment_id, period, part);

CREATE TABLE payments (
    payment_id  bigserial   PRIMARY KEY,
    payer       text        NOT NULL,
    period      date        NOT NULL,
    amount_fen  bigint      NOT NULL CHECK (amount_fen > 0),
    paid_on     date        NOT NULL,
    request_id  text        NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX payments_payer ON payments (payer, period);

-- `amount` (fen, exact) rounded by a region's rule: half up to the fen, or
-- up to the jiao. Amounts here are never negative.
CREATE FUNCTION round_fen(amount numeric, rule text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE rule
        WHEN 'UP_JIAO' THEN (ceil(amount / 10) * 10)::bigint
        ELSE floor(amount + 0.5)::bigint
    END
$$;
