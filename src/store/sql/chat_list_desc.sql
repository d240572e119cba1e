-- Chats numbered below $2, nearest first, skipping $3, at most $4; queued chats included.
SELECT x.number, x.messages_count, x.created_at, x.updated_at
FROM applications a
LEFT JOIN LATERAL (
    (SELECT number, messages_count, created_at, updated_at
       FROM chats WHERE application_id = $1 AND number < $2
      ORDER BY number DESC LIMIT $3::bigint + $4::bigint)
    UNION ALL
    (SELECT chat_number, 0::bigint, created_at, updated_at
       FROM jobs WHERE application_id = $1 AND message_number IS NULL AND chat_number < $2
      ORDER BY chat_number DESC LIMIT $3::bigint + $4::bigint)
    ORDER BY 1 DESC OFFSET $3::bigint LIMIT $4::bigint
) x ON true
WHERE a.id = $1
