-- Waits for any worker batch holding these jobs, so its writes are visible to the next statement.
DELETE FROM jobs WHERE application_id = $1 AND chat_number = $2
