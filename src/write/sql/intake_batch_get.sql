-- What a committed creation statement created (see `intake_resolve.sql`). A NULL `numbers` is a
-- fence this service wrote itself (its statement never committed).
SELECT numbers, accepted_at FROM intake_batches WHERE id = $1
