-- On Citus: the outbox rows of one application's batch, built by the service
-- (`store::webhook_outbox::enqueue_for_app`), as `webhooks_enqueue_created.sql` writes them elsewhere.
INSERT INTO webhook_deliveries (application_id, webhook_id, event_id, event_type, chat_number,
                                message_number, body, sender, item_created_at, item_updated_at)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[],
                     $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[])
