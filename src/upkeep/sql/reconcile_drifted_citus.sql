-- The count reconciler on Citus, first step: the applications whose chats_count or one of
-- whose chats' messages_count differs from the rows, read from every shard without locks (each
-- shard's counts in one snapshot of its node); each is then corrected on its own shard
-- (`reconcile_chats_count_citus.sql`, `reconcile_messages_count_citus.sql`), which counts again.
SELECT c.application_id
FROM chats c
LEFT JOIN (SELECT application_id, chat_number, count(*) AS n
             FROM messages GROUP BY application_id, chat_number) m
  ON m.application_id = c.application_id AND m.chat_number = c.number
WHERE coalesce(m.n, 0) <> c.messages_count
UNION
SELECT a.id
FROM applications a
LEFT JOIN (SELECT application_id, count(*) AS n FROM chats GROUP BY application_id) c
  ON c.application_id = a.id
WHERE coalesce(c.n, 0) <> a.chats_count
