-- Gates required on a user (every session of the user) or on one session.
CREATE TABLE user_gates (
    user_id VARCHAR(64) NOT NULL,
    gate_key VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, gate_key),
    CONSTRAINT user_gates_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE session_gates (
    session_id VARCHAR(64) NOT NULL,
    gate_key VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, gate_key),
    CONSTRAINT session_gates_session FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
