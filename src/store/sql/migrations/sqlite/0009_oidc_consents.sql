-- Consents given on the OIDC consent page: one row per (citizen, client) with the scopes
-- consented to so far (space separated; a larger request adds to them). Removed with the
-- citizen, and by deregistration. Instants in microseconds.
-- Keep in step with ../postgres/0009_oidc_consents.sql.
CREATE TABLE oidc_consents (
    citizen_id  TEXT    NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    client_id   TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    granted_at  INTEGER  NOT NULL,
    PRIMARY KEY (citizen_id, client_id)
);
