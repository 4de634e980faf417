-- The session revocation log: every change that ends or alters a session (a sign-out, a
-- revocation, a password or profile change, a gate, a deleted user) appends one entry naming
-- the session or the user it is about, in the transaction of the change. Nodes that answer
-- session lookups from memory follow it by id. Ids come from the one-row head below, which
-- each appender updates first: appenders queue on that row, so ids are gap-free and become
-- visible in order, and a reader that has seen id n has seen every id below it. Entries older
-- than a few minutes are pruned.
CREATE TABLE session_revocation_head (
    singleton INT NOT NULL PRIMARY KEY CHECK (singleton = 1),
    last_id BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
INSERT INTO session_revocation_head (singleton, last_id) VALUES (1, 0);

CREATE TABLE session_revocations (
    id BIGINT NOT NULL PRIMARY KEY,
    session_id VARCHAR(64),
    user_id VARCHAR(64),
    created_at BIGINT NOT NULL,
    INDEX session_revocations_created_at (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
