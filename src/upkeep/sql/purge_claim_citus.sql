-- `purge_claim.sql` on Citus, second step: claims purge $2 of application $1 on its shard,
-- unless another instance holds it (or it is done).
SELECT id, application_id, chat_number FROM purges
WHERE application_id = $1 AND id = $2
FOR UPDATE SKIP LOCKED
