-- Registers an endpoint of application $1 (`webhook_count.sql` checked the limit).
INSERT INTO webhooks (application_id, url, events, secret)
VALUES ($1, $2, $3, $4)
RETURNING id, url, events, paused, paused_reason, failing_since, created_at, updated_at,
          NULL::timestamptz AS previous_until, secret
