-- Claims a key for a new request. A claim whose request never committed a result (the process
-- died mid-request) is taken over after a minute. No row: someone else holds the key.
INSERT INTO idempotency_keys AS ik (scope, key, request_hash) VALUES ($1, $2, $3)
ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, created_at = now()
    WHERE ik.status IS NULL AND ik.created_at < now() - interval '60 seconds'
RETURNING true
