-- Signing keys of JWT sessions, shared by every node. The private key is PKCS#8 DER, base64;
-- a retired key no longer signs but still verifies until its last token expires.
CREATE TABLE jwt_keys (
    kid TEXT PRIMARY KEY,
    private_key TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);
