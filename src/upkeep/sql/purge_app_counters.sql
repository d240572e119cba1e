-- First the counters: once they are gone no creation can enqueue a job under the application.
DELETE FROM chat_counters WHERE application_id = $1 AND chat_number IN (
    SELECT chat_number FROM chat_counters WHERE application_id = $1 LIMIT $2)
