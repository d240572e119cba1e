-- What an earlier request with the key did, the claim it holds, and whether its application
-- still exists (a key claimed by the previous release names none).
SELECT request_hash, status, result_number, result_token, result_at, claim,
       application_id IS NULL OR EXISTS (SELECT 1 FROM applications a WHERE a.id = application_id)
FROM idempotency_keys WHERE scope = $1 AND key = $2
