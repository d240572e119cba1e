-- Which of application and chat exist, to name the missing one in a 404.
SELECT EXISTS (SELECT 1 FROM chat_counters cc WHERE cc.application_id = $1 AND cc.chat_number = $2)
FROM applications a WHERE a.id = $1
