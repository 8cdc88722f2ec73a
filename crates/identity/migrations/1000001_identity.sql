-- Persons' basic information. `persons` holds the current version; every
-- version, with who made it and why, is kept in `basic_info_versions`.
CREATE TABLE persons (
    person_id     uuid        PRIMARY KEY,
    id_number     text        NOT NULL UNIQUE,
    birth_date    date        NOT NULL,
    region_code   text        NOT NULL,
    version       integer     NOT NULL,
    name          text        NOT NULL,
    gender        text        NOT NULL CHECK (gender IN ('MALE', 'FEMALE')),
    ethnicity     text        NOT NULL,
    phone         text        NOT NULL,
    address       text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('UNCONFIRMED', 'CONFIRMED')),
    registered_at timestamptz NOT NULL,
    confirmed_at  timestamptz,
    confirmed_by  text
);

CREATE TABLE basic_info_versions (
    person_id    uuid        NOT NULL REFERENCES persons,
    version      integer     NOT NULL,
    name         text        NOT NULL,
    gender       text        NOT NULL,
    ethnicity    text        NOT NULL,
    phone        text        NOT NULL,
    address      text        NOT NULL,
    changed_by   text        NOT NULL,
    reason       text        NOT NULL,
    evidence_ref text        NOT NULL,
    changed_at   timestamptz NOT NULL,
    request_id   text        NOT NULL,
    PRIMARY KEY (person_id, version)
);

-- The online service password (argon2id PHC string) and its lockout state.
CREATE TABLE online_credentials (
    person_id       uuid        PRIMARY KEY REFERENCES persons,
    password_hash   text        NOT NULL,
    failed_attempts integer     NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    set_at          timestamptz NOT NULL,
    set_by          text        NOT NULL
);

-- Organisations that call the system.
CREATE TABLE partners (
    code                 text        PRIMARY KEY,
    kind                 text        NOT NULL,
    name                 text        NOT NULL,
    region_code          text        NOT NULL,
    parent_code          text        REFERENCES partners (code),
    credit_code          text        UNIQUE,
    designation_in_force boolean     NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
CREATE INDEX partners_kind ON partners (kind, code);
