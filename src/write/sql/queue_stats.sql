-- The queue for /metrics: jobs waiting, the oldest one's age in seconds, and jobs that failed at
-- least $1 times (still queued and retried: worth an alert).
SELECT (SELECT count(*) FROM jobs),
       COALESCE(EXTRACT(EPOCH FROM now() - (SELECT min(created_at) FROM jobs)), 0)::float8,
       (SELECT count(*) FROM jobs WHERE attempts >= $1)
