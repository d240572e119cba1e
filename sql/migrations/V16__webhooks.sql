-- Webhooks (issue 17, part 3): an application's endpoints, and the outbox of their deliveries.
-- Additive only: the previous release neither reads nor writes these tables.
--
-- `webhooks`: one row per registered endpoint. `secret` signs every delivery; after a rotation
-- `previous_secret` also signs until `previous_until` (24 hours), so receivers can switch keys
-- without dropping deliveries. `failing_since` is when the endpoint started failing: the later of
-- its last success (`succeeded_at`) and the event of its first failed delivery since; an endpoint
-- failing for the whole retry window is paused (`paused`, with `paused_reason`).
CREATE TABLE webhooks (
    application_id bigint      NOT NULL,
    id             bigint      GENERATED ALWAYS AS IDENTITY,
    url            text        NOT NULL,
    events         text[]      NOT NULL,
    secret         text        NOT NULL,
    previous_secret text,
    previous_until timestamptz,
    paused         boolean     NOT NULL DEFAULT false,
    paused_reason  text,
    failing_since  timestamptz,
    succeeded_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, id)
);

-- The outbox: one row per event and endpoint, inserted in the transaction that made the change
-- (a worker batch, an edit, a delete), so a committed change always has its deliveries and a
-- rolled-back one never has. `event_id` (from `webhook_event_ids`) is the same for every
-- endpoint of one event: the payload's `sequence` and the `webhook-id` header. The event's data
-- is kept as columns and rendered to JSON when sent. Drained by the delivery workers
-- (`src/hooks/`): `state` pending → delivered, or failed after the retry window.
CREATE SEQUENCE webhook_event_ids AS bigint;

CREATE TABLE webhook_deliveries (
    application_id  bigint      NOT NULL,
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    webhook_id      bigint      NOT NULL,
    event_id        bigint      NOT NULL,
    event_type      text        NOT NULL,
    chat_number     bigint      NOT NULL,
    message_number  bigint,
    body            text,
    sender          text,
    item_created_at timestamptz,
    item_updated_at timestamptz,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    state           text        NOT NULL DEFAULT 'pending'
                                CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    last_status     integer,
    last_latency_ms integer,
    last_error      text,
    PRIMARY KEY (application_id, id)
);

-- What is due (the dispatcher's scan); an endpoint's pending deliveries in order (the claim
-- walks them and stops at its limit), per chat in order (the claim's "nothing earlier is
-- pending" test); and an endpoint's recent deliveries (the listing).
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (application_id, webhook_id, event_id)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (application_id, webhook_id, chat_number, event_id)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (application_id, webhook_id, id);
-- Finished deliveries are kept a week (the listing's "recent attempts"), then expired by age.
CREATE INDEX webhook_deliveries_done ON webhook_deliveries (occurred_at) WHERE state <> 'pending';

-- On a Citus coordinator (see V13): distributed by application, colocated with the rest.
DO $citus$
DECLARE
    t text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    IF NOT citus_is_coordinator() THEN
        RETURN;
    END IF;
    FOREACH t IN ARRAY ARRAY['webhooks', 'webhook_deliveries'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = t::regclass) THEN
            PERFORM create_distributed_table(t, 'application_id', colocate_with => 'chat_counters');
            PERFORM truncate_local_data_after_distributing_table(t);
        END IF;
    END LOOP;
END
$citus$;
