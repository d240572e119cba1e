-- Whether the application with id $1 still exists (a cached id outlives its application's
-- delete until this process hears of it).
SELECT EXISTS (SELECT 1 FROM applications WHERE id = $1)
