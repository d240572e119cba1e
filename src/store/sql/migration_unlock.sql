-- Releases the migration lock ($1, MIGRATION_LOCK).
SELECT pg_advisory_unlock($1)
