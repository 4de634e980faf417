-- Second factors. An authenticator app (TOTP) is one row per user: its secret sealed under the
-- server key (bound to the user id), unconfirmed until a first code, and the last time step a
-- code was accepted for, so that each step signs in once. Backup codes are stored as MACs
-- under the server key, each used once. A session records when it last verified a second
-- factor: sensitive changes of an account with one need a recent one.
CREATE TABLE totp_authenticators (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    last_step INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE backup_codes (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_mac TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX backup_codes_user_id ON backup_codes (user_id, code_mac);
ALTER TABLE sessions ADD COLUMN second_factor_at INTEGER;
