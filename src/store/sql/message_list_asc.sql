-- Messages numbered between $3 and $4, skipping $5, at most $6; queued messages included.
SELECT EXISTS (SELECT 1 FROM chat_counters cc
                WHERE cc.application_id = $1 AND cc.chat_number = $2) AS chat_exists,
       x.number, x.body, x.created_at, x.updated_at, x.sender
FROM applications a
LEFT JOIN LATERAL (
    (SELECT number, body, created_at, updated_at, sender
       FROM messages WHERE application_id = $1 AND chat_number = $2 AND number > $3 AND number < $4
      ORDER BY number LIMIT $5::bigint + $6::bigint)
    UNION ALL
    (SELECT message_number, body, created_at, updated_at, sender
       FROM jobs WHERE application_id = $1 AND chat_number = $2 AND message_number > $3 AND message_number < $4
      ORDER BY message_number LIMIT $5::bigint + $6::bigint)
    ORDER BY 1 OFFSET $5::bigint LIMIT $6::bigint
) x ON true
WHERE a.id = $1
