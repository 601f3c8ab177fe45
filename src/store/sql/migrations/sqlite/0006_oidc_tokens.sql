-- OAuth tokens issued by the OpenID Provider. Only the SHA-256 (hex) of each token is kept;
-- grant_id groups the tokens issued from one authorization code (for family revocation).
-- The asserted facts (scope, auth_time, level, amr) are JSON text in body.
-- Keep in step with ../postgres/0006_oidc_tokens.sql.
CREATE TABLE oidc_tokens (
    token_hash  TEXT    PRIMARY KEY NOT NULL,
    kind        TEXT    NOT NULL,
    grant_id    TEXT    NOT NULL,
    client_id   TEXT    NOT NULL,
    citizen_id  TEXT    NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    session_id  TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    issued_at   INTEGER  NOT NULL,
    expires_at  INTEGER  NOT NULL,
    used_at     INTEGER,
    revoked_at  INTEGER
);

CREATE INDEX oidc_tokens_grant ON oidc_tokens (grant_id);
CREATE INDEX oidc_tokens_session ON oidc_tokens (session_id);
