-- Takes one job unless another worker holds it, deleting it as `jobs_claim` does.
DELETE FROM jobs
WHERE application_id = $1 AND ctid = ANY (ARRAY(
    SELECT j.ctid FROM jobs j WHERE j.application_id = $1 AND j.id = $2 FOR UPDATE SKIP LOCKED))
RETURNING id, application_id, chat_number, message_number, body, created_at, updated_at, sender
