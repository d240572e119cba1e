-- No row: unknown application. A row of NULLs: unknown chat. A chat still in the queue is
-- answered from its job.
SELECT x.number, x.messages_count, x.created_at, x.updated_at
FROM applications a
LEFT JOIN LATERAL (
    (SELECT number, messages_count, created_at, updated_at
       FROM chats WHERE application_id = $1 AND number = $2)
    UNION ALL
    (SELECT chat_number, 0::bigint, created_at, updated_at
       FROM jobs WHERE application_id = $1 AND chat_number = $2 AND message_number IS NULL)
    LIMIT 1
) x ON true
WHERE a.id = $1
