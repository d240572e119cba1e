-- The newest applied migration (NULL: none yet).
SELECT max(version) FROM refinery_schema_history
