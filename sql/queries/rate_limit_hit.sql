-- Counts one request of `token` in the current minute; returns the count and the seconds until
-- the window ends.
INSERT INTO rate_limits AS r (token, window_start, count) VALUES ($1, date_trunc('minute', now()), 1)
ON CONFLICT (token, window_start) DO UPDATE SET count = r.count + 1
RETURNING count, ceil(extract(epoch FROM r.window_start + interval '1 minute' - now()))::integer
