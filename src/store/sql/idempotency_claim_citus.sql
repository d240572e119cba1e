-- `idempotency_claim.sql` on Citus (V21): keys are kept under their application's id ($5; 0 for
-- application creations), on its shard. The takeover cutoff is $6, a minute ago by the service's
-- clock: Citus refuses `now()` and any function that is not immutable (`timestamptz - interval`
-- is only stable) in the WHERE of an ON CONFLICT update.
INSERT INTO idempotency_keys AS ik (scope, key, request_hash, claim, application_id)
VALUES ($1, $2, $3, $4, $5::bigint)
ON CONFLICT (application_id, scope, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, created_at = EXCLUDED.created_at, claim = EXCLUDED.claim
    WHERE ik.status IS NULL AND ik.created_at < $6::timestamptz
RETURNING true
