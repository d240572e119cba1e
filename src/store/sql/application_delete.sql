-- The token stops working at once; the chats, messages and queued jobs under the application
-- are removed by the purger in small chunks, so a huge application does not hold the request.
WITH gone AS (
    DELETE FROM applications WHERE token = $1 RETURNING id
)
INSERT INTO purges (application_id) SELECT id FROM gone
RETURNING application_id
