-- Failed-attempt counters with a growing delay (password checks per account), shared by
-- every node. `next_allowed_at` is when the next attempt may be judged.
CREATE TABLE attempt_backoffs (
    bucket TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_attempt_at BIGINT NOT NULL,
    next_allowed_at BIGINT NOT NULL
);
