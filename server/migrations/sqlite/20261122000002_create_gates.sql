-- Gates required on a user (every session of the user) or on one session.
CREATE TABLE user_gates (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    gate_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, gate_key)
);

CREATE TABLE session_gates (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    gate_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, gate_key)
);
