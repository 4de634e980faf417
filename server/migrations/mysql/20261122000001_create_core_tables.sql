-- Environments created by the server itself (when none is configured). Times are Unix milliseconds.
-- Binary collation: comparisons are exact; emails are canonicalised before they reach SQL.
CREATE TABLE environments (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    mode VARCHAR(16) NOT NULL,
    publishable_key VARCHAR(128) NOT NULL UNIQUE,
    secret_key_hash VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE users (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    environment_id VARCHAR(64) NOT NULL,
    email VARCHAR(320) NOT NULL,
    email_canonical VARCHAR(320) NOT NULL,
    name VARCHAR(512),
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT users_email_unique UNIQUE (environment_id, email_canonical)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE passwords (
    user_id VARCHAR(64) NOT NULL PRIMARY KEY,
    hash VARCHAR(255) NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT passwords_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE sessions (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    environment_id VARCHAR(64) NOT NULL,
    user_id VARCHAR(64) NOT NULL,
    token_hash VARCHAR(64) NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_active_at BIGINT NOT NULL,
    user_agent VARCHAR(512),
    ip VARCHAR(64),
    INDEX sessions_user_id (user_id),
    CONSTRAINT sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE sign_ups (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    environment_id VARCHAR(64) NOT NULL,
    email VARCHAR(320) NOT NULL,
    email_canonical VARCHAR(320) NOT NULL,
    name VARCHAR(512),
    password_hash VARCHAR(255),
    legal_accepted_at BIGINT,
    code_hash VARCHAR(64) NOT NULL,
    code_expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    resend_available_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    INDEX sign_ups_created_at (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
