-- `intake_resolve.sql` on Citus (V21): the batch record under its application ($2), on its shard.
INSERT INTO intake_batches (application_id, id, numbers) VALUES ($2, $1, NULL)
ON CONFLICT (application_id, id) DO NOTHING
RETURNING id
