-- Counts one request of application $1 in the current minute; returns the count and the seconds
-- until the window ends.
INSERT INTO app_rate_limits AS r (application_id, window_start, count)
VALUES ($1, date_trunc('minute', now()), 1)
ON CONFLICT (application_id, window_start) DO UPDATE SET count = r.count + 1
RETURNING count, ceil(extract(epoch FROM r.window_start + interval '1 minute' - now()))::integer
