-- Counts one request of application $1 in the current minute; returns the count and the
-- window's start (the caller works out the seconds to the next window: Citus refuses now() in
-- RETURNING, and this statement is the same on one node).
INSERT INTO app_rate_limits AS r (application_id, window_start, count)
VALUES ($1, date_trunc('minute', now()), 1)
ON CONFLICT (application_id, window_start) DO UPDATE SET count = r.count + 1
RETURNING count, window_start
