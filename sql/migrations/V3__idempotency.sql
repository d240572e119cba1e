-- Idempotency keys of POST requests. The first request with a key claims it (status NULL while
-- it runs); the statement that creates the item records the result in the same transaction, so
-- a key either has a committed result or its creation never happened. Kept at least 24 hours.
CREATE TABLE idempotency_keys (
    scope         text        NOT NULL,  -- method and path, so keys of different tenants never meet
    key           text        NOT NULL,
    request_hash  bytea       NOT NULL,
    status        smallint,
    result_number bigint,
    result_token  uuid,
    result_at     timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
