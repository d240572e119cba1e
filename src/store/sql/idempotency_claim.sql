-- Claims a key for a new request under the claim id $4. A claim whose request never committed a
-- result (the process died mid-request) is taken over after a minute, by the database's clock
-- (every instance's): the creation statements lock the key row and create only under their own
-- claim, so the earlier request can no longer commit once this happens. No row: someone else
-- holds the key (or a result is recorded). The key names the application its request addresses
-- ($5, its id; NULL when creating one, or when there is no such application), so that it is
-- purged with it.
INSERT INTO idempotency_keys AS ik (scope, key, request_hash, claim, application_id)
VALUES ($1, $2, $3, $4, $5::bigint)
ON CONFLICT (scope, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, created_at = EXCLUDED.created_at, claim = EXCLUDED.claim,
        application_id = EXCLUDED.application_id
    WHERE ik.status IS NULL AND ik.created_at < now() - interval '1 minute'
RETURNING true
