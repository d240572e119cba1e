-- The job table is a hot queue: vacuumed every few seconds, skipping it while it is locked.
VACUUM (SKIP_LOCKED) jobs
