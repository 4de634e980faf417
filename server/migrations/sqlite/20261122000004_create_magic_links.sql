-- Sign-in links: only the token's hash is kept; one live link per user.
CREATE TABLE magic_links (
    id TEXT PRIMARY KEY NOT NULL,
    environment_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    redirect_url TEXT,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX magic_links_user_id ON magic_links (user_id);
