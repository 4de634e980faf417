-- When the user last proved who they are on a session (sign-in or re-authentication): the
-- sensitive account changes ask for a recent one. Existing sessions count from their creation.
-- And the address a code is for, when it is not the user's own (an email change).
ALTER TABLE sessions ADD COLUMN authenticated_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET authenticated_at = created_at;
ALTER TABLE user_codes ADD COLUMN target TEXT;
