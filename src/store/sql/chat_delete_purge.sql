-- On Citus: hands a deleted chat's messages to the purger (`chat_delete_row_citus.sql`).
INSERT INTO purges (application_id, chat_number) VALUES ($1, $2)
