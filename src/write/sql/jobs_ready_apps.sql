-- On Citus (`Worker::run_batch`): up to $1 applications with jobs ready, read from every shard
-- without locks; each is then claimed on its own shard (`jobs_claim_app.sql`).
SELECT DISTINCT application_id FROM jobs WHERE coalesce(ready_at, run_at) <= now() LIMIT $1
