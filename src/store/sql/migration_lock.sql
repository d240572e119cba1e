-- Waits for the migration lock ($1, MIGRATION_LOCK): another instance is migrating.
SELECT pg_advisory_lock($1)
