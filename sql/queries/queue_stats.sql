-- The queue for /metrics: jobs waiting, the oldest one's age in seconds, jobs set aside.
SELECT (SELECT count(*) FROM jobs),
       COALESCE(EXTRACT(EPOCH FROM now() - (SELECT min(created_at) FROM jobs)), 0)::float8,
       (SELECT count(*) FROM dead_jobs)
