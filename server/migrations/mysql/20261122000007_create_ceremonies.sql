-- State of a multi-step sign-in ceremony (OAuth redirect, WebAuthn challenge) between its
-- start and its finish, on any node. Only the SHA-256 of the ceremony id is kept.
CREATE TABLE ceremonies (
    id_hash VARCHAR(64) NOT NULL PRIMARY KEY,
    kind VARCHAR(32) NOT NULL,
    environment_id VARCHAR(64) NOT NULL,
    payload MEDIUMTEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    INDEX ceremonies_expires_at (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
