-- State of a multi-step sign-in ceremony (OAuth redirect, WebAuthn challenge) between its
-- start and its finish, on any node. Only the SHA-256 of the ceremony id is kept.
CREATE TABLE ceremonies (
    id_hash TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ceremonies_expires_at ON ceremonies (expires_at);
