-- Guesses at emailed codes are counted per ceremony: a user code row lives (and keeps its
-- count of tries) until its ceremony ends, across resends. Codes are now HMACs under the
-- server key, so the plain-hash codes of before can never match: they are dropped (they
-- lived ten minutes; a resend sends a new one).
DELETE FROM user_codes;
ALTER TABLE user_codes ADD COLUMN ceremony_expires_at BIGINT NOT NULL DEFAULT 0;

-- JWT signing keys are sealed under the server key and belong to one environment. The
-- keys of before were stored in the clear: they are dropped, and each JWT environment gets
-- a new key on start (tokens they signed fail once; clients renew from their refresh session).
DROP TABLE jwt_keys;
CREATE TABLE jwt_keys (
    kid VARCHAR(64) NOT NULL PRIMARY KEY,
    environment_id VARCHAR(64) NOT NULL,
    private_key VARCHAR(255) NOT NULL,
    public_key VARCHAR(128) NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX jwt_keys_environment ON jwt_keys (environment_id);
