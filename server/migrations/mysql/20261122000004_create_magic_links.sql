-- Sign-in links: only the token's hash is kept; one live link per user.
CREATE TABLE magic_links (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    environment_id VARCHAR(64) NOT NULL,
    user_id VARCHAR(64) NOT NULL,
    token_hash VARCHAR(64) NOT NULL UNIQUE,
    redirect_url VARCHAR(2048),
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    INDEX magic_links_user_id (user_id),
    CONSTRAINT magic_links_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
