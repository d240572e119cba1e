-- Per-application request counts in fixed one-minute windows, shared by every instance so the
-- limit holds across them. Unlogged: a crash forgets at most a minute of counting.
CREATE UNLOGGED TABLE rate_limits (
    token        uuid        NOT NULL,
    window_start timestamptz NOT NULL,
    count        integer     NOT NULL,
    PRIMARY KEY (token, window_start)
);
