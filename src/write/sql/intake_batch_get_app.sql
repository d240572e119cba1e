-- `intake_batch_get.sql` on Citus (V21): the batch record under its application ($2).
SELECT numbers, accepted_at FROM intake_batches WHERE application_id = $2 AND id = $1
