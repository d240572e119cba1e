-- Takes the migration lock ($1, MIGRATION_LOCK) if it is free: true when taken.
SELECT pg_try_advisory_lock($1)
