-- Corrects each chat's messages_count by the drift seen in one snapshot. Adding the drift
-- (rather than setting the total) keeps any increment a worker commits meanwhile.
UPDATE chats c SET messages_count = c.messages_count + d.drift
FROM (
    SELECT c2.application_id, c2.number, coalesce(m.n, 0) - c2.messages_count AS drift
    FROM chats c2
    LEFT JOIN (SELECT application_id, chat_number, count(*) AS n
                 FROM messages GROUP BY application_id, chat_number) m
      ON m.application_id = c2.application_id AND m.chat_number = c2.number
    WHERE coalesce(m.n, 0) <> c2.messages_count
) d
WHERE c.application_id = d.application_id AND c.number = d.number
