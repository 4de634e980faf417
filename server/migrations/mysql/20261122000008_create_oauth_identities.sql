-- An account at an OAuth / OpenID Connect provider linked to a user, keyed by the provider's
-- subject (never by email). Times are Unix milliseconds.
CREATE TABLE oauth_identities (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id VARCHAR(64) NOT NULL,
    environment_id VARCHAR(64) NOT NULL,
    provider VARCHAR(64) NOT NULL,
    subject VARCHAR(255) NOT NULL,
    email VARCHAR(320),
    created_at BIGINT NOT NULL,
    INDEX oauth_identities_user_id (user_id),
    CONSTRAINT oauth_identities_subject_unique UNIQUE (environment_id, provider, subject),
    CONSTRAINT oauth_identities_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
