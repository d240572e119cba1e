-- `idempotency_release.sql` on Citus (V21): the key under its application's id ($4).
DELETE FROM idempotency_keys
WHERE application_id = $4 AND scope = $1 AND key = $2 AND status IS NULL AND claim = $3
