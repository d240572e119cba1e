-- The hits of a search page (message numbers $3) with their bodies: from the table, or from the
-- queue while still queued (a number is in exactly one of them in the search's snapshot).
SELECT number, body, created_at, updated_at, sender FROM messages
WHERE application_id = $1 AND chat_number = $2 AND number = ANY($3)
UNION ALL
SELECT message_number, body, created_at, updated_at, sender FROM jobs
WHERE application_id = $1 AND chat_number = $2 AND message_number = ANY($3)
