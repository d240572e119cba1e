-- Chats numbered between $2 and $3, skipping $4, at most $5; queued chats included. No row: unknown
-- application; one row of NULLs: an empty page.
SELECT x.number, x.messages_count, x.created_at, x.updated_at
FROM applications a
LEFT JOIN LATERAL (
    (SELECT number, messages_count, created_at, updated_at
       FROM chats WHERE application_id = $1 AND number > $2 AND number < $3
      ORDER BY number LIMIT $4::bigint + $5::bigint)
    UNION ALL
    (SELECT chat_number, 0::bigint, created_at, updated_at
       FROM jobs WHERE application_id = $1 AND message_number IS NULL AND chat_number > $2 AND chat_number < $3
      ORDER BY chat_number LIMIT $4::bigint + $5::bigint)
    ORDER BY 1 OFFSET $4::bigint LIMIT $5::bigint
) x ON true
WHERE a.id = $1
