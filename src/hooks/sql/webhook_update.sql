-- Changes what was sent ($3 url, $4 events, $5 paused; NULL: unchanged). Pausing says so;
-- resuming clears the reason and the failure streak, so the endpoint gets a full window again.
-- The previous secret's end is returned as it is (Citus refuses now() in RETURNING): the caller
-- leaves it out once passed.
UPDATE webhooks w
SET url = coalesce($3, w.url),
    events = coalesce($4, w.events),
    paused = coalesce($5, w.paused),
    paused_reason = CASE WHEN $5::boolean THEN coalesce(w.paused_reason, 'paused through the API')
                         WHEN NOT $5::boolean THEN NULL
                         ELSE w.paused_reason END,
    failing_since = CASE WHEN NOT $5::boolean THEN NULL ELSE w.failing_since END,
    updated_at = now()
FROM applications a
WHERE a.id = $1 AND w.application_id = $1 AND w.id = $2
RETURNING w.id, w.url, w.events, w.paused, w.paused_reason, w.failing_since, w.created_at,
          w.updated_at, w.previous_until
