-- $1 is the application's id (resolved from the token $2 and cached by the service): with the
-- partition key a statement parameter, only one partition is opened. No row: the application is
-- gone. Otherwise whether the chat exists, and the message from the table or, while it is
-- queued, from its job.
SELECT EXISTS (SELECT 1 FROM chat_counters cc
                WHERE cc.application_id = $1 AND cc.chat_number = $3) AS chat_exists,
       x.number, x.body, x.created_at, x.updated_at, x.sender
FROM applications a
LEFT JOIN LATERAL (
    (SELECT number, body, created_at, updated_at, sender
       FROM messages WHERE application_id = $1 AND chat_number = $3 AND number = $4)
    UNION ALL
    (SELECT message_number, body, created_at, updated_at, sender
       FROM jobs WHERE application_id = $1 AND chat_number = $3 AND message_number = $4)
    LIMIT 1
) x ON true
WHERE a.id = $1 AND a.token = $2
