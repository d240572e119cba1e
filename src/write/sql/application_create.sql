-- Creates an application with the token $1. With an idempotency key ($3 scope, $4 key, $5 the
-- claim the request made) it creates only while that claim is still the request's (its row
-- locked until commit) and records the result under it. The creation is recorded under the batch
-- id $6 in the same transaction, as the other creations are (`intake_messages.sql`): numbers
-- `{1}` when it created the application, `{0}` when the claim was lost. The key is made to name
-- the new application, so that it is purged with it.
WITH held AS (
    SELECT ik.key FROM idempotency_keys ik
    WHERE ik.scope = $3 AND ik.key = $4 AND ik.claim = $5
    FOR NO KEY UPDATE
), created AS (
    INSERT INTO applications (token, name)
    SELECT $1, $2 WHERE $4::text IS NULL OR EXISTS (SELECT 1 FROM held)
    RETURNING id, token, created_at
), remembered AS (
    UPDATE idempotency_keys ik SET status = 201, result_token = created.token, result_at = created.created_at,
                                   application_id = created.id
    FROM created WHERE ik.scope = $3 AND ik.key = $4 AND ik.claim = $5
), batch AS (
    INSERT INTO intake_batches (id, numbers)
    SELECT $6, ARRAY[(SELECT count(*) FROM created)]
    RETURNING numbers, accepted_at
)
SELECT numbers, accepted_at FROM batch
