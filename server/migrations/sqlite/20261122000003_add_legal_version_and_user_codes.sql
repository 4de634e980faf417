-- The Terms version a user accepted, and codes sent to a signed-in user's address
-- (email verification now, password reset later): one live code per user and purpose.
ALTER TABLE users ADD COLUMN legal_version TEXT;
ALTER TABLE sign_ups ADD COLUMN legal_version TEXT;

CREATE TABLE user_codes (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    resend_available_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT user_codes_one_live UNIQUE (user_id, purpose)
);
