-- Fixed-window request counters, shared by every node.
CREATE TABLE rate_limits (
    bucket VARCHAR(255) NOT NULL PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
