-- The Terms version a user accepted, and codes sent to a signed-in user's address
-- (email verification now, password reset later): one live code per user and purpose.
ALTER TABLE users ADD COLUMN legal_version VARCHAR(64);
ALTER TABLE sign_ups ADD COLUMN legal_version VARCHAR(64);

CREATE TABLE user_codes (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id VARCHAR(64) NOT NULL,
    purpose VARCHAR(32) NOT NULL,
    code_hash VARCHAR(64) NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    resend_available_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT user_codes_one_live UNIQUE (user_id, purpose),
    CONSTRAINT user_codes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
