-- The endpoints of application $1, if it exists (no row: it does not). Before a registration:
-- on Citus a statement whose CTE inserts is never sent to one shard, so the count and the
-- insert are two statements (each on the application's shard); as before, two registrations
-- at once may both pass the limit by one.
SELECT (SELECT count(*) FROM webhooks w WHERE w.application_id = $1)
FROM applications a
WHERE a.id = $1
