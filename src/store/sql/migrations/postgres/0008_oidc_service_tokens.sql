-- Access tokens issued by the client_credentials grant to service clients: no citizen, no
-- refresh token. Only the SHA-256 (hex) of each token is kept. Instants in microseconds.
-- Keep in step with ../sqlite/0008_oidc_service_tokens.sql.
CREATE TABLE oidc_service_tokens (
    token_hash  TEXT    PRIMARY KEY NOT NULL,
    client_id   TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    issued_at   BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);

CREATE INDEX oidc_service_tokens_client ON oidc_service_tokens (client_id);
