-- The bulk loader's message numbers: takes $3 numbers from the counter of chat $2 of application
-- $1, as `intake_messages.sql` does for a batch (one update of `last_message_number`), the chat
-- active at $4 (the load's transaction's now(), given as a parameter: Citus refuses now() over a
-- column in an UPDATE's SET). The last number taken before them (the loader's messages are
-- numbered after it). No job is queued: the loader writes the messages itself, through the
-- workers' statements.
UPDATE chat_counters SET last_message_number = last_message_number + $3,
                         last_activity_at = greatest(last_activity_at, $4::timestamptz),
                         activity_slot = greatest(activity_slot, activity_slot($4::timestamptz))
WHERE application_id = $1 AND chat_number = $2
RETURNING last_message_number - $3
