-- On Citus: creates an application (V21's `application_create_citus`): token, name, the
-- idempotency scope, key and claim (NULL without a key), the batch id.
SELECT application_create_citus($1, $2, $3, $4, $5, $6)
