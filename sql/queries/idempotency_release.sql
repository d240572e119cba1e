-- The request failed without creating anything: free the key for a retry.
DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL
