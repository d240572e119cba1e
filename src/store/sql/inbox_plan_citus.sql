-- On Citus: `inbox_plan.sql` with the application's chat count from `app_counters` (V21), where
-- Citus keeps it (`applications.chats_count` is no longer updated there). Every table is read
-- on the application's shard (`applications`: the node's copy of the reference table).
SELECT a.id,
       (SELECT count(*) FROM (SELECT 1 FROM chat_members m
                               WHERE m.application_id = $1 AND m.member = $2
                               LIMIT k.n) x) >= k.n
FROM applications a
JOIN app_counters ac ON ac.application_id = $1,
     LATERAL (SELECT greatest(1, ceil(sqrt($3::bigint * greatest(ac.chats_count, 1))))::bigint AS n) k
WHERE a.id = $1
