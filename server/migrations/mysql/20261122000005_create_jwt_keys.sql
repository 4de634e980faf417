-- Signing keys of JWT sessions, shared by every node. The private key is PKCS#8 DER, base64;
-- a retired key no longer signs but still verifies until its last token expires.
CREATE TABLE jwt_keys (
    kid VARCHAR(64) NOT NULL PRIMARY KEY,
    private_key VARCHAR(255) NOT NULL,
    public_key VARCHAR(128) NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
