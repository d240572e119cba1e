-- The application's search dictionary (V19), after its messages: whoever adds words (a worker
-- batch, the key filler) holds the application's jobs or messages, which the steps before this
-- one waited for.
DELETE FROM search_words WHERE application_id = $1 AND word IN (
    SELECT word FROM search_words WHERE application_id = $1 LIMIT $2)
