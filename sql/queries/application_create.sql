-- Creates an application; records the result under the request's idempotency key ($3, $4),
-- if it has one, in the same statement (naming the application, so that the key is purged
-- with it).
WITH created AS (
    INSERT INTO applications (token, name) VALUES ($1, $2)
    RETURNING id, token, name, chats_count, created_at, updated_at
), remembered AS (
    UPDATE idempotency_keys ik SET status = 201, result_token = created.token, result_at = created.created_at,
                                   application_id = created.id
    FROM created WHERE ik.scope = $3 AND ik.key = $4
)
SELECT token, name, chats_count, created_at, updated_at FROM created
