-- SSO sessions. Only the SHA-256 (hex) of the cookie value is stored; methods and relying
-- parties are JSON text. Keep in step with ../sqlite/0003_sso_sessions.sql.
CREATE TABLE sso_sessions (
    id              TEXT    PRIMARY KEY NOT NULL,
    citizen_id      TEXT    NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    cookie_hash     TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    auth_time       BIGINT  NOT NULL,
    methods         TEXT    NOT NULL,
    level           TEXT    NOT NULL,
    relying_parties TEXT    NOT NULL,
    last_seen_at    BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    ended_at        BIGINT,
    user_agent      TEXT,
    source          TEXT,
    CONSTRAINT sso_sessions_cookie_hash_key UNIQUE (cookie_hash)
);

CREATE INDEX sso_sessions_citizen ON sso_sessions (citizen_id);
