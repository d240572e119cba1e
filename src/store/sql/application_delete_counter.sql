-- On Citus: drops a deleted application's chat counter (V21's `app_counters`), on its shard.
DELETE FROM app_counters WHERE application_id = $1
