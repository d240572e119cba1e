-- Batch records older than 15 minutes: a resolution gives up after 10 (`intake::resolve`).
DELETE FROM intake_batches WHERE accepted_at < now() - interval '15 minutes'
