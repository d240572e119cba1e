SELECT request_hash, status, result_number, result_token, result_at
FROM idempotency_keys WHERE scope = $1 AND key = $2
