-- One endpoint; a row of NULLs when the application has no such endpoint, no row when no
-- application has this token.
SELECT w.id, w.url, w.events, w.paused, w.paused_reason, w.failing_since, w.created_at,
       w.updated_at, CASE WHEN w.previous_until > now() THEN w.previous_until END
FROM applications a
LEFT JOIN webhooks w ON w.application_id = a.id AND w.id = $2
WHERE a.token = $1
