-- `idempotency_get.sql` on Citus (V21): the key under its application's id ($3; 0 for application
-- creations, whose keys name no application).
SELECT request_hash, status, result_number, result_token, result_at, claim,
       application_id = 0 OR EXISTS (SELECT 1 FROM applications a WHERE a.id = $3)
FROM idempotency_keys WHERE application_id = $3 AND scope = $1 AND key = $2
