-- Credential state, one row per citizen (per channel for proofing). Keep in step with
-- ../postgres/0004_credentials.sql.

CREATE TABLE passwords (
    citizen_id TEXT    PRIMARY KEY NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    phc        TEXT    NOT NULL,
    set_at     INTEGER NOT NULL
);

-- locked_now is scratch: each failure's UPDATE sets it to 1 only if that very update locked
-- the account, so RETURNING (which sees new values only) can tell who locked it.
CREATE TABLE login_failures (
    citizen_id      TEXT    PRIMARY KEY NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    consecutive     INTEGER NOT NULL DEFAULT 0,
    last_failure_at INTEGER,
    locked_at       INTEGER,
    locked_now      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE totp_secrets (
    citizen_id  TEXT    PRIMARY KEY NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    secret      BLOB    NOT NULL,
    enrolled_at INTEGER NOT NULL,
    last_step   INTEGER
);

CREATE TABLE policy_acceptances (
    citizen_id  TEXT    PRIMARY KEY NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    version     TEXT    NOT NULL,
    accepted_at INTEGER NOT NULL
);

CREATE TABLE proofing_failures (
    citizen_id TEXT    NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    channel    TEXT    NOT NULL,
    failures   INTEGER NOT NULL DEFAULT 0,
    blocked_at INTEGER,
    PRIMARY KEY (citizen_id, channel)
);
