-- Idempotency keys name the application they belong to (the one a chat or message creation
-- addressed, or the one an application creation created), so that the purger removes them with
-- the rest of a deleted application's rows, and a replay can tell that its application is gone.
-- Nullable: keys claimed by the previous release carry none (they expire after 48 hours).
ALTER TABLE idempotency_keys ADD COLUMN application_id bigint;
CREATE INDEX idempotency_keys_application ON idempotency_keys (application_id)
    WHERE application_id IS NOT NULL;
