-- A worker batch's commit does not wait for the disk: a crash that loses it loses the jobs'
-- deletion with their effects, and the jobs run again.
SET LOCAL synchronous_commit = off
