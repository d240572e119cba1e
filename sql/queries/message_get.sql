-- No row: unknown application. Otherwise whether the chat exists, and the message from the
-- table or, while it is queued, from its job.
SELECT EXISTS (SELECT 1 FROM chat_counters cc
                WHERE cc.application_id = a.id AND cc.chat_number = $2) AS chat_exists,
       x.number, x.body, x.created_at, x.updated_at
FROM applications a
LEFT JOIN LATERAL (
    (SELECT number, body, created_at, updated_at
       FROM messages WHERE application_id = a.id AND chat_number = $2 AND number = $3)
    UNION ALL
    (SELECT message_number, body, created_at, updated_at
       FROM jobs WHERE application_id = a.id AND chat_number = $2 AND message_number = $3)
    LIMIT 1
) x ON true
WHERE a.token = $1
