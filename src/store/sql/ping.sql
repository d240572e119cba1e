-- Does the database answer (the readiness check)?
SELECT 1
