-- Resolves a creation statement whose answer was lost with its connection: inserts its batch id
-- as a fence. The primary key makes this wait while the original transaction still runs. A row
-- back: the original never committed, and now never will (its own insert of the id would
-- conflict). No row: it committed; `intake_batch_get.sql` reads what it created.
INSERT INTO intake_batches (id, numbers) VALUES ($1, NULL)
ON CONFLICT (id) DO NOTHING
RETURNING id
