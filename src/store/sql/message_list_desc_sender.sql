-- As message_list_desc.sql, only the messages of sender $6 (index `messages_sender`, V15).
SELECT EXISTS (SELECT 1 FROM chat_counters cc
                WHERE cc.application_id = $1 AND cc.chat_number = $2) AS chat_exists,
       x.number, x.body, x.created_at, x.updated_at, x.sender
FROM applications a
LEFT JOIN LATERAL (
    (SELECT number, body, created_at, updated_at, sender
       FROM messages WHERE application_id = $1 AND chat_number = $2 AND sender = $6 AND number < $3
      ORDER BY number DESC LIMIT $4::bigint + $5::bigint)
    UNION ALL
    (SELECT message_number, body, created_at, updated_at, sender
       FROM jobs WHERE application_id = $1 AND chat_number = $2 AND sender = $6 AND message_number < $3
      ORDER BY message_number DESC LIMIT $4::bigint + $5::bigint)
    ORDER BY 1 DESC OFFSET $4::bigint LIMIT $5::bigint
) x ON true
WHERE a.id = $1
