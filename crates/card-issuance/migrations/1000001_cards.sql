-- Applications for a card. At most one pending application per person.
CREATE TABLE applications (
    application_id      uuid        PRIMARY KEY,
    person_id           uuid        NOT NULL,
    bank_code           text        NOT NULL,
    issuing_region_code text        NOT NULL,
    status              text        NOT NULL CHECK (status IN ('PENDING', 'ISSUED')),
    applied_at          timestamptz NOT NULL,
    applied_by          text        NOT NULL,
    card_number         text
);
CREATE UNIQUE INDEX applications_one_pending ON applications (person_id) WHERE status = 'PENDING';
CREATE INDEX applications_pending_by_bank ON applications (bank_code, applied_at)
    WHERE status = 'PENDING';

-- Numbers that card identifiers are made from; never reused.
CREATE SEQUENCE card_number_seq MINVALUE 0 START 0;
CREATE SEQUENCE serial_number_seq MINVALUE 0 START 0;
CREATE SEQUENCE bank_card_number_seq MINVALUE 0 START 0;

CREATE TABLE cards (
    card_number              text        PRIMARY KEY,
    card_identification_code text        NOT NULL UNIQUE,
    serial_number            text        NOT NULL UNIQUE,
    person_id                uuid        NOT NULL,
    application_id           uuid        UNIQUE REFERENCES applications,
    generation               smallint    NOT NULL CHECK (generation BETWEEN 1 AND 3),
    status                   text        NOT NULL
        CHECK (status IN ('ISSUED', 'RECEIVED', 'LOST', 'REPLACED', 'CANCELLED')),
    issuing_region_code      text        NOT NULL,
    issued_on                date        NOT NULL,
    issued_at                timestamptz NOT NULL,
    received_at              timestamptz,
    bank_code                text        NOT NULL,
    bank_card_number         text        NOT NULL UNIQUE,
    replaces_card_number     text        REFERENCES cards,
    replaced_by_card_number  text        REFERENCES cards
);
CREATE INDEX cards_person ON cards (person_id, issued_at);
-- A person holds at most one card that can still be used.
CREATE UNIQUE INDEX cards_one_usable_per_person ON cards (person_id)
    WHERE status IN ('ISSUED', 'RECEIVED');

CREATE TABLE card_status_history (
    id          bigserial   PRIMARY KEY,
    card_number text        NOT NULL REFERENCES cards,
    status      text        NOT NULL,
    at          timestamptz NOT NULL,
    changed_by  text        NOT NULL,
    reason      text        NOT NULL,
    request_id  text        NOT NULL
);
CREATE INDEX card_status_history_card ON card_status_history (card_number, id);

-- Old medical insurance cards, from before social security cards.
CREATE TABLE legacy_medical_cards (
    card_number             text        PRIMARY KEY,
    person_id               uuid        NOT NULL,
    region_code             text        NOT NULL,
    status                  text        NOT NULL CHECK (status IN ('ACTIVE', 'RETIRED')),
    registered_at           timestamptz NOT NULL,
    retired_at              timestamptz,
    replaced_by_card_number text
);
CREATE INDEX legacy_medical_cards_person ON legacy_medical_cards (person_id);
