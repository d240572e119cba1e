-- Rate-limit counts keyed by application id instead of token: a stored key must grant nothing
-- to whoever reads the table. Unlogged like `rate_limits`: a crash forgets at most a minute of
-- counting. The previous release keeps counting in `rate_limits` (by token) while both run
-- during a rolling upgrade; this release only expires its rows, and a later release drops it.
CREATE UNLOGGED TABLE app_rate_limits (
    application_id bigint      NOT NULL,
    window_start   timestamptz NOT NULL,
    count          integer     NOT NULL,
    PRIMARY KEY (application_id, window_start)
);
