-- Batch records older than an hour: their answers were resolved long ago.
DELETE FROM intake_batches WHERE accepted_at < now() - interval '1 hour'
