-- On Citus: the application's endpoints that are not paused and the events each takes, in id
-- order (`store::webhook_outbox::enqueue_for_app`).
SELECT id, events FROM webhooks WHERE application_id = $1 AND NOT paused ORDER BY id
