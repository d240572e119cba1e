-- Whether refinery's history table exists yet (a fresh database has none; asking it directly
-- would log an ERROR in the server's log at every first start).
SELECT to_regclass('refinery_schema_history') IS NOT NULL
