-- Second factors. An authenticator app (TOTP) is one row per user: its secret sealed under the
-- server key (bound to the user id), unconfirmed until a first code, and the last time step a
-- code was accepted for, so that each step signs in once. Backup codes are stored as MACs
-- under the server key, each used once. A session records when it last verified a second
-- factor: sensitive changes of an account with one need a recent one.
CREATE TABLE totp_authenticators (
    user_id VARCHAR(64) NOT NULL PRIMARY KEY,
    sealed_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    last_step BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT totp_authenticators_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE TABLE backup_codes (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id VARCHAR(64) NOT NULL,
    code_mac VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT,
    INDEX backup_codes_user_id (user_id, code_mac),
    CONSTRAINT backup_codes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
ALTER TABLE sessions ADD COLUMN second_factor_at BIGINT;
