-- Claims a key for a new request. A claim whose request never committed a result (the process
-- died mid-request) is taken over after a minute. No row: someone else holds the key. The key
-- names the application its request addresses ($4, NULL when creating one), so that it is
-- purged with it.
INSERT INTO idempotency_keys AS ik (scope, key, request_hash, application_id)
VALUES ($1, $2, $3, (SELECT id FROM applications WHERE token = $4))
ON CONFLICT (scope, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, created_at = now(), application_id = EXCLUDED.application_id
    WHERE ik.status IS NULL AND ik.created_at < now() - interval '60 seconds'
RETURNING true
