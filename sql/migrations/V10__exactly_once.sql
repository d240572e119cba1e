-- Exactly once where the outcome is unknown.
--
-- Every statement that accepts creations (a group-commit batch, or one request) records its batch
-- here, under an id the service chose, in the same transaction, with what it created. When the
-- connection is lost before the answer arrives, the commit may or may not have happened, and the
-- transaction may even still be running on the server. The service then inserts the same id
-- itself (`intake_resolve.sql`): the primary key makes that insert wait for the original
-- transaction if it is still running; if the original committed, the insert conflicts and its row
-- answers the requests; otherwise the insert succeeds and is a fence: the original can never
-- commit any more (its own insert would conflict), so the requests can run again without being
-- created twice. Kept 15 minutes (expired by the purger's housekeeping), longer than any
-- resolution tries (10 minutes).
CREATE TABLE intake_batches (
    id          uuid        PRIMARY KEY,
    -- Per request of the batch, in order: the number created; NULL where nothing was created
    -- (unknown application or chat); 0 where the request's Idempotency-Key claim was no longer
    -- its own. A NULL array is a fence: that batch never committed.
    numbers     bigint[],
    accepted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX intake_batches_accepted ON intake_batches (accepted_at);

-- Which request holds an idempotency key: a creation records its result only under the claim it
-- made, and creates nothing if its claim was taken over meanwhile (a claim without a result is
-- taken over after a minute). NULL for keys claimed by the previous release.
ALTER TABLE idempotency_keys ADD COLUMN claim uuid;

-- Jobs are no longer set aside after failing: an acknowledged item stays where reads see it and
-- is retried with capped backoff (`chat_jobs_stuck` in /metrics says when to look). Those set
-- aside by earlier releases go back to the queue, with their attempts, to be retried. The table
-- stays for the previous release, which may still write to it during a rolling upgrade.
INSERT INTO jobs (id, application_id, chat_number, message_number, body, created_at, updated_at,
                  attempts, run_at, last_error)
OVERRIDING SYSTEM VALUE
SELECT d.id, d.application_id, d.chat_number, d.message_number, d.body, d.created_at, d.updated_at,
       d.attempts, now(), d.last_error
FROM dead_jobs d
WHERE EXISTS (SELECT 1 FROM chat_counters cc
              WHERE cc.application_id = d.application_id AND cc.chat_number = d.chat_number)
ON CONFLICT DO NOTHING;
DELETE FROM dead_jobs;
