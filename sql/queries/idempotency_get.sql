SELECT request_hash, status, result_number, result_token, result_at, claim
FROM idempotency_keys WHERE scope = $1 AND key = $2
