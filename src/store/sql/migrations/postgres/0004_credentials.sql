-- Credential state, one row per citizen (per channel for proofing). Keep in step with
-- ../sqlite/0004_credentials.sql.

CREATE TABLE passwords (
    citizen_id TEXT    PRIMARY KEY NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    phc        TEXT    NOT NULL,
    set_at     BIGINT  NOT NULL
);

-- locked_now is scratch: each failure's UPDATE sets it to 1 only if that very update locked
-- the account, so RETURNING (which sees new values only) can tell who locked it.
CREATE TABLE login_failures (
    citizen_id      TEXT    PRIMARY KEY NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    consecutive     BIGINT  NOT NULL DEFAULT 0,
    last_failure_at BIGINT,
    locked_at       BIGINT,
    locked_now      BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE totp_secrets (
    citizen_id  TEXT    PRIMARY KEY NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    secret      BYTEA   NOT NULL,
    enrolled_at BIGINT  NOT NULL,
    last_step   BIGINT
);

CREATE TABLE policy_acceptances (
    citizen_id  TEXT    PRIMARY KEY NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    version     TEXT    NOT NULL,
    accepted_at BIGINT  NOT NULL
);

CREATE TABLE proofing_failures (
    citizen_id TEXT    NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    channel    TEXT    NOT NULL,
    failures   BIGINT  NOT NULL DEFAULT 0,
    blocked_at BIGINT,
    PRIMARY KEY (citizen_id, channel)
);
