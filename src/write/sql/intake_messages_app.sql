-- On Citus: a batch of one application's message creations (V21's `intake_messages_app`, which
-- Citus runs on the node holding application $1): chats, bodies, senders, then the idempotency
-- scope, key and claim columns, then the batch id.
SELECT intake_messages_app($1, $2, $3, $4, $5, $6, $7, $8)
