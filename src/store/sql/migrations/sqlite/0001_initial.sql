-- Durable store schema for SQLite. Timestamps are microseconds since the epoch (UTC), ids
-- are UUID text, JSON is stored as text. Keep in step with ../postgres/0001_initial.sql.

CREATE TABLE citizens (
    id                 TEXT    PRIMARY KEY NOT NULL,
    identifier         TEXT    NOT NULL,
    given_name         TEXT    NOT NULL,
    family_names       TEXT    NOT NULL,
    birth_date         TEXT    NOT NULL,
    email              TEXT    NOT NULL,
    mobile             TEXT    NOT NULL,
    address            TEXT    NOT NULL,
    tramite            TEXT,
    verification_facts TEXT    NOT NULL,
    proofing           TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    CONSTRAINT citizens_identifier_key UNIQUE (identifier)
);

CREATE TABLE activation_codes (
    citizen_id TEXT    NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL,
    code_hash  TEXT    NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    failures   INTEGER NOT NULL DEFAULT 0,
    blocked_at INTEGER,
    PRIMARY KEY (citizen_id, purpose)
);

CREATE TABLE relying_parties (
    id       TEXT PRIMARY KEY NOT NULL,
    protocol TEXT NOT NULL,
    body     TEXT NOT NULL
);

CREATE TABLE signing_keys (
    kid                   TEXT    PRIMARY KEY NOT NULL,
    alg                   TEXT    NOT NULL,
    state                 TEXT    NOT NULL,
    encrypted_private_key BLOB    NOT NULL,
    certificate           BLOB    NOT NULL,
    created_at            INTEGER NOT NULL,
    state_changed_at      INTEGER NOT NULL
);

CREATE INDEX signing_keys_alg_state ON signing_keys (alg, state);

-- No foreign key to citizens: the trail must outlive whatever it talks about.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    citizen_id TEXT,
    source     TEXT,
    outcome    TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
);

CREATE INDEX audit_log_citizen_seq ON audit_log (citizen_id, seq);

-- The end of the chain, in one row: appends lock it first, which serialises them across nodes.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);

INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
