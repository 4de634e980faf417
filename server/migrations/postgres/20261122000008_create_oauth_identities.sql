-- An account at an OAuth / OpenID Connect provider linked to a user, keyed by the provider's
-- subject (never by email). Times are Unix milliseconds.
CREATE TABLE oauth_identities (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    environment_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT,
    created_at BIGINT NOT NULL,
    CONSTRAINT oauth_identities_subject_unique UNIQUE (environment_id, provider, subject)
);
CREATE INDEX oauth_identities_user_id ON oauth_identities (user_id);
