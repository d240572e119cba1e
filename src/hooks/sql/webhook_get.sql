-- One endpoint; a row of NULLs when the application has no such endpoint, no row when the
-- application ($1) no longer exists.
SELECT w.id, w.url, w.events, w.paused, w.paused_reason, w.failing_since, w.created_at,
       w.updated_at, CASE WHEN w.previous_until > now() THEN w.previous_until END
FROM applications a
LEFT JOIN webhooks w ON w.application_id = $1 AND w.id = $2
WHERE a.id = $1
