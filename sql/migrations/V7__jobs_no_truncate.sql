-- The job table is a hot queue: every job is inserted and deleted within moments, and it is
-- vacuumed every second. A vacuum that finds empty pages at the end of a table takes an ACCESS
-- EXCLUSIVE lock to cut them off (retrying for up to 5 s to get it); holding it, it blocks every
-- creation's job insert and every worker's claim. The freed pages are reused by the next jobs
-- anyway, so the queue's vacuums (manual and automatic) leave them in place.
ALTER TABLE jobs SET (vacuum_truncate = off);
