-- Reader $3 leaves chat $2 of the application $1 (its id), with its read position (nothing
-- happens when it was not a member). No row: unknown application. False: unknown chat (a
-- deleted chat's counter is gone at once, its member rows go with its purge).
WITH app AS (
    SELECT id FROM applications WHERE id = $1
), gone AS (
    DELETE FROM chat_members m USING app
    WHERE m.application_id = $1 AND m.chat_number = $2 AND m.member = $3
)
SELECT EXISTS (SELECT 1 FROM chat_counters cc WHERE cc.application_id = $1 AND cc.chat_number = $2)
FROM app
