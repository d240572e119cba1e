-- `purge_claim.sql` on Citus, first step: the $1 oldest pending purges, read from every shard
-- without locks (Citus takes row locks only within one shard); each is then claimed on its own
-- shard (`purge_claim_citus.sql`).
SELECT application_id, id FROM purges ORDER BY id LIMIT $1
