-- Registers an endpoint, unless the application has $5 already (then a row with NULLs). No row:
-- no application has this token.
WITH app AS (
    SELECT a.id, (SELECT count(*) FROM webhooks w WHERE w.application_id = a.id) AS endpoints
    FROM applications a WHERE a.token = $1
), created AS (
    INSERT INTO webhooks (application_id, url, events, secret)
    SELECT app.id, $2, $3, $4 FROM app WHERE app.endpoints < $5
    RETURNING id, url, events, paused, paused_reason, failing_since, created_at, updated_at,
              NULL::timestamptz AS previous_until, secret
)
SELECT c.* FROM app LEFT JOIN created c ON true
