-- Whether anything of the application is left, in one snapshot. A purge chunk that deleted
-- fewer rows than its limit does not show that: the rows a worker batch has claimed (deleted,
-- not yet committed) are skipped by the purge's delete and written when the batch commits. In
-- one snapshot such a batch is either uncommitted, and its jobs are still visible here, or
-- committed, and the chats and messages it wrote are; so "nothing left" is true only when no
-- batch holding the application's jobs is still to commit. Nothing can be added afterwards: the
-- application row is gone (no chat can be created), the counters are gone (no message can be
-- created; a creation that locked one before the purge deleted it committed first), and workers
-- only write what a job holds.
SELECT EXISTS (SELECT 1 FROM chat_counters WHERE application_id = $1)
    OR EXISTS (SELECT 1 FROM jobs WHERE application_id = $1)
    OR EXISTS (SELECT 1 FROM dead_jobs WHERE application_id = $1)
    OR EXISTS (SELECT 1 FROM messages WHERE application_id = $1)
    OR EXISTS (SELECT 1 FROM chats WHERE application_id = $1)
    OR EXISTS (SELECT 1 FROM chat_members WHERE application_id = $1)
    OR EXISTS (SELECT 1 FROM search_words WHERE application_id = $1)
    OR EXISTS (SELECT 1 FROM idempotency_keys WHERE application_id = $1)
