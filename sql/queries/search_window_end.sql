-- The oldest message of the newest-first window that the walk covers (none: the walk covers
-- everything below the cursor).
SELECT number FROM messages
WHERE application_id = $1 AND chat_number = $2 AND number < $3
ORDER BY number DESC OFFSET $4::bigint - 1 LIMIT 1
