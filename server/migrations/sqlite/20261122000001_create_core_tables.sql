-- Environments created by the server itself (when none is configured). Times are Unix milliseconds.
CREATE TABLE environments (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    mode TEXT NOT NULL,
    publishable_key TEXT NOT NULL UNIQUE,
    secret_key_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    environment_id TEXT NOT NULL,
    email TEXT NOT NULL,
    email_canonical TEXT NOT NULL,
    name TEXT,
    email_verified INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT users_email_unique UNIQUE (environment_id, email_canonical)
);

CREATE TABLE passwords (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    environment_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL,
    user_agent TEXT,
    ip TEXT
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE sign_ups (
    id TEXT PRIMARY KEY NOT NULL,
    environment_id TEXT NOT NULL,
    email TEXT NOT NULL,
    email_canonical TEXT NOT NULL,
    name TEXT,
    password_hash TEXT,
    legal_accepted_at INTEGER,
    code_hash TEXT NOT NULL,
    code_expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    resend_available_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX sign_ups_created_at ON sign_ups (created_at);
