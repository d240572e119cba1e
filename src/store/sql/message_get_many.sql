-- Several single-message reads in one statement (`store::reads`): request $5[i] reads message
-- $4[i] of chat $3[i] of application $1[i] (id, resolved from token $2[i] and cached by the
-- service). One row per request still answered, by request: whether the application is there
-- (false: it is gone), whether the chat exists, and the message from the table or, while it is
-- queued, from its job. Each probe names its application and chat, so only their partition is
-- opened.
SELECT r.ord, a.id IS NOT NULL AS app_exists,
       EXISTS (SELECT 1 FROM chat_counters cc
                WHERE cc.application_id = r.app AND cc.chat_number = r.chat) AS chat_exists,
       x.number, x.body, x.created_at, x.updated_at, x.sender
FROM unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::bigint[], $5::int[])
     AS r(app, token, chat, number, ord)
LEFT JOIN applications a ON a.id = r.app AND a.token = r.token
LEFT JOIN LATERAL (
    (SELECT number, body, created_at, updated_at, sender
       FROM messages m WHERE m.application_id = r.app AND m.chat_number = r.chat AND m.number = r.number)
    UNION ALL
    (SELECT message_number, body, created_at, updated_at, sender
       FROM jobs j WHERE j.application_id = r.app AND j.chat_number = r.chat AND j.message_number = r.number)
    LIMIT 1
) x ON a.id IS NOT NULL
