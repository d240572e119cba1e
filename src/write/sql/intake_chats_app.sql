-- On Citus: a batch of one application's chat creations (V21's `intake_chats_app`, run on the node
-- holding application $1): the idempotency scope, key and claim columns, then the batch id.
SELECT intake_chats_app($1, $2, $3, $4, $5)
