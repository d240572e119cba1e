-- On Citus: hands a deleted application's rows to the purger, on its shard.
INSERT INTO purges (application_id) VALUES ($1)
