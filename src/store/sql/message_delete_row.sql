WITH gone AS (
    DELETE FROM messages m
    USING applications a, chat_counters cc
    WHERE a.token = $1 AND m.application_id = a.id AND m.chat_number = $2 AND m.number = $3
      AND cc.application_id = a.id AND cc.chat_number = $2
    RETURNING m.application_id
), counted AS (
    UPDATE chats c SET messages_count = c.messages_count - 1
    FROM gone WHERE c.application_id = gone.application_id AND c.number = $2
)
SELECT count(*) FROM gone
