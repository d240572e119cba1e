-- The request failed without creating anything: free the key for a retry (only the request's own
-- claim, $3, and only while it has no result).
DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL AND claim = $3
