-- Local projections of other services' state, kept from their event
-- streams so the hot paths (activation, eligibility) need no network hop.

-- Where each upstream stream was last applied.
CREATE TABLE projection_cursors (
    stream     text PRIMARY KEY,
    cursor     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Cards, from card-issuance's CardIssued / CardStatusChanged events.
CREATE TABLE cards (
    card_number              text        PRIMARY KEY,
    card_identification_code text        NOT NULL UNIQUE,
    serial_number            text        NOT NULL UNIQUE,
    person_id                uuid        NOT NULL,
    bank_code                text        NOT NULL,
    bank_card_number         text        NOT NULL,
    issuing_region_code      text        NOT NULL,
    status                   text        NOT NULL,
    received_at              timestamptz
);
CREATE INDEX cards_person ON cards (person_id);
CREATE INDEX cards_received_pending ON cards (received_at) WHERE status = 'RECEIVED';

-- Old medical insurance cards, from card-issuance's legacy card events,
-- and retired here at once when the pharmacy channel activates.
CREATE TABLE legacy_cards (
    card_number text PRIMARY KEY,
    person_id   uuid NOT NULL,
    status      text NOT NULL CHECK (status IN ('ACTIVE', 'RETIRED'))
);
CREATE INDEX legacy_cards_person ON legacy_cards (person_id);

-- Partners, from identity's PartnerChanged events.
CREATE TABLE partners (
    code                 text    PRIMARY KEY,
    kind                 text    NOT NULL,
    parent_code          text,
    designation_in_force boolean NOT NULL
);

-- One activation per card: the primary key is what makes concurrent
-- attempts through several channels end with exactly one.
CREATE TABLE activations (
    card_number                text        PRIMARY KEY,
    person_id                  uuid        NOT NULL,
    channel                    text        NOT NULL,
    partner_code               text        NOT NULL,
    operator_id                text        NOT NULL,
    activated_at               timestamptz NOT NULL,
    request_id                 text        NOT NULL,
    retired_legacy_card_number text
);

-- The activation window of a region and its consequence. Regions without a
-- row use the service's configured default.
CREATE TABLE region_policies (
    region_code   text    PRIMARY KEY,
    window_months integer CHECK (window_months > 0),
    window_days   integer CHECK (window_days > 0),
    consequence   text    NOT NULL CHECK (consequence IN ('RESTRICT_LEGACY_CARD', 'NONE')),
    CHECK ((window_months IS NULL) <> (window_days IS NULL))
);

-- Old cards retired by the pharmacy channel that card-issuance has not yet
-- been told about; written in the activation's transaction, delivered by a
-- relay until card-issuance confirms.
CREATE TABLE legacy_retirements (
    legacy_card_number text        PRIMARY KEY,
    card_number        text        NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    attempts           integer     NOT NULL DEFAULT 0
);

-- The instant a card received at `received` passes its window: calendar
-- months counted in China Standard Time, or days. Mirrors
-- RegionPolicy::deadline in the service, for listing approaching deadlines.
CREATE FUNCTION activation_deadline(received timestamptz, months integer, days integer)
RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN months IS NOT NULL
        THEN ((received AT TIME ZONE INTERVAL '+08:00') + make_interval(months => months))
             AT TIME ZONE INTERVAL '+08:00'
        ELSE received + make_interval(days => days) END
$$;
