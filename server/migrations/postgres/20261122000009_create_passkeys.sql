-- Passkeys (WebAuthn credentials). `credential` is webauthn-rs's serialised `Passkey` (JSON);
-- `sign_count` repeats its signature counter so that the update after a sign-in can refuse,
-- in one statement, a counter that went backwards. A credential id belongs to one user only.
CREATE TABLE passkeys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    environment_id TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    credential TEXT NOT NULL,
    sign_count BIGINT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    CONSTRAINT passkeys_credential_id_unique UNIQUE (credential_id)
);
CREATE INDEX passkeys_user_id ON passkeys (user_id);
