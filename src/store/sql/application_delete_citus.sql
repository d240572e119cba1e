-- `application_delete.sql` on Citus (`citus_edits`), first step: the application row (a reference
-- table's); the caller then hands its rows to the purger (`application_delete_purge.sql`).
DELETE FROM applications WHERE token = $1 RETURNING id
