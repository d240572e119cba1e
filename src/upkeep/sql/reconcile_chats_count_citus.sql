-- `reconcile_chats_count.sql` within application $1, for Citus (one shard): corrects its chat
-- count (`app_counters`, V21) by the drift seen in one snapshot.
UPDATE app_counters ac SET chats_count = ac.chats_count + d.drift
FROM (
    SELECT (SELECT count(*) FROM chats c WHERE c.application_id = $1) - a2.chats_count AS drift
    FROM app_counters a2
    WHERE a2.application_id = $1
) d
WHERE ac.application_id = $1 AND d.drift <> 0
