-- A new secret ($3); the current one keeps signing for 24 hours beside it.
UPDATE webhooks w
SET previous_secret = w.secret, previous_until = now() + interval '24 hours', secret = $3,
    updated_at = now()
FROM applications a
WHERE a.id = $1 AND w.application_id = $1 AND w.id = $2
RETURNING w.id, w.url, w.events, w.paused, w.paused_reason, w.failing_since, w.created_at,
          w.updated_at, w.previous_until, w.secret
