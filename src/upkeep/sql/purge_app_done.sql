-- The application is purged: its purge and those of its chats (nothing of them is left either).
DELETE FROM purges WHERE application_id = $1
