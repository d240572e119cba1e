-- `reconcile_messages_count.sql` within application $1, for Citus (one shard).
UPDATE chats c SET messages_count = c.messages_count + d.drift
FROM (
    SELECT c2.number, coalesce(m.n, 0) - c2.messages_count AS drift
    FROM chats c2
    LEFT JOIN (SELECT chat_number, count(*) AS n
                 FROM messages WHERE application_id = $1 GROUP BY chat_number) m
      ON m.chat_number = c2.number
    WHERE c2.application_id = $1 AND coalesce(m.n, 0) <> c2.messages_count
) d
WHERE c.application_id = $1 AND c.number = d.number
