-- The application's idempotency keys: their scopes hold its token, their results its numbers.
DELETE FROM idempotency_keys WHERE application_id = $1 AND (scope, key) IN (
    SELECT scope, key FROM idempotency_keys WHERE application_id = $1 LIMIT $2)
