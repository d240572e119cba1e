-- The count reconciler on Citus, first step: the applications one of whose chats'
-- messages_count, or whose chat count (kept with its chat counter in `app_counters` there, on
-- its shard: migration V21), differs from the rows, read from every shard without locks (each
-- shard's counts in one snapshot of its node); each is then corrected on its own shard
-- (`reconcile_chats_count_citus.sql`, `reconcile_messages_count_citus.sql`), which counts again.
SELECT c.application_id
FROM chats c
LEFT JOIN (SELECT application_id, chat_number, count(*) AS n
             FROM messages GROUP BY application_id, chat_number) m
  ON m.application_id = c.application_id AND m.chat_number = c.number
WHERE coalesce(m.n, 0) <> c.messages_count
UNION
SELECT ac.application_id
FROM app_counters ac
LEFT JOIN (SELECT application_id, count(*) AS n FROM chats GROUP BY application_id) c
  ON c.application_id = ac.application_id
WHERE coalesce(c.n, 0) <> ac.chats_count
