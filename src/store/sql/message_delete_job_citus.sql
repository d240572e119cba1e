-- `message_delete_job.sql` on Citus (`citus_edits`): the delete alone, the application named by its
-- id ($1); the caller queues the `message.deleted` deliveries in the same transaction.
DELETE FROM jobs j
USING applications a
WHERE a.id = $1 AND j.application_id = $1 AND j.chat_number = $2 AND j.message_number = $3
