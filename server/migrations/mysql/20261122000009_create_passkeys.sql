-- Passkeys (WebAuthn credentials). `credential` is webauthn-rs's serialised `Passkey` (JSON);
-- `sign_count` repeats its signature counter so that the update after a sign-in can refuse,
-- in one statement, a counter that went backwards. A credential id belongs to one user only.
CREATE TABLE passkeys (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id VARCHAR(64) NOT NULL,
    environment_id VARCHAR(64) NOT NULL,
    credential_id VARCHAR(1400) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    credential MEDIUMTEXT NOT NULL,
    sign_count BIGINT NOT NULL,
    name VARCHAR(255) NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    CONSTRAINT passkeys_credential_id_unique UNIQUE (credential_id),
    INDEX passkeys_user_id (user_id),
    CONSTRAINT passkeys_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
