-- The id of the application with token $1 (no row: there is none).
SELECT id FROM applications WHERE token = $1
