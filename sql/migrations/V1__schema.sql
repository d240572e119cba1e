-- The whole data model. Every table carries the application it belongs to and every key leads
-- with it, so the schema can be distributed by application (Citus) without a redesign.

-- A tenant. `last_chat_number` is the locked counter that hands out chat numbers; it only grows,
-- so a number is never reused after a delete.
CREATE TABLE applications (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token            uuid        NOT NULL,
    name             text        NOT NULL,
    last_chat_number bigint      NOT NULL DEFAULT 0 CHECK (last_chat_number >= 0),
    chats_count      bigint      NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT applications_token_key UNIQUE (token)
);
CREATE INDEX applications_created ON applications (created_at, id);

-- One row per chat that exists, queued or written: the locked counter that hands out message
-- numbers. Created in the same statement that accepts the chat, deleted first when the chat goes,
-- so "does this chat exist" has one answer that creations can lock on. Kept apart from `chats` so
-- the hot counter updates do not contend with the workers' writes. Low fillfactor: HOT updates.
CREATE TABLE chat_counters (
    application_id      bigint NOT NULL,
    chat_number         bigint NOT NULL CHECK (chat_number > 0),
    last_message_number bigint NOT NULL DEFAULT 0 CHECK (last_message_number >= 0),
    PRIMARY KEY (application_id, chat_number)
) WITH (fillfactor = 50);

-- Chats as written by the workers.
CREATE TABLE chats (
    application_id bigint      NOT NULL,
    number         bigint      NOT NULL CHECK (number > 0),
    messages_count bigint      NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (application_id, number)
);

-- Messages as written by the workers, hash-partitioned by chat: every chat-scoped statement
-- touches one partition, and the search indexes of a partition hold 1/32 of the other chats'
-- entries, so a search costs in proportion to its own chat rather than to the whole table.
CREATE TABLE messages (
    application_id bigint      NOT NULL,
    chat_number    bigint      NOT NULL,
    number         bigint      NOT NULL CHECK (number > 0),
    body           text        NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (application_id, chat_number, number)
) PARTITION BY HASH (application_id, chat_number);
DO $$
BEGIN
    FOR i IN 0..31 LOOP
        EXECUTE format('CREATE TABLE messages_p%s PARTITION OF messages FOR VALUES WITH (MODULUS 32, REMAINDER %s)', i, i);
    END LOOP;
END $$;

-- The write queue. A row with `message_number` NULL creates chat `chat_number`; otherwise it
-- creates that message with `body`. The number is allocated when the job is enqueued; the unique
-- indexes make a duplicate number impossible even while it waits here. Edits and deletes of a
-- queued item change or remove its job row.
CREATE TABLE jobs (
    id             bigint GENERATED ALWAYS AS IDENTITY,
    application_id bigint      NOT NULL,
    chat_number    bigint      NOT NULL CHECK (chat_number > 0),
    message_number bigint      CHECK (message_number > 0),
    body           text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    attempts       integer     NOT NULL DEFAULT 0,
    run_at         timestamptz NOT NULL DEFAULT now(),
    last_error     text,
    PRIMARY KEY (application_id, id),
    CHECK ((message_number IS NULL) = (body IS NULL))
) WITH (fillfactor = 70,
        autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
        autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 5000,
        autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 5000,
        autovacuum_vacuum_cost_delay = 0);
CREATE UNIQUE INDEX jobs_chat_key ON jobs (application_id, chat_number)
    WHERE message_number IS NULL;
CREATE UNIQUE INDEX jobs_message_key ON jobs (application_id, chat_number, message_number)
    WHERE message_number IS NOT NULL;
-- The dequeue order.
CREATE INDEX jobs_queue ON jobs (id);

-- Jobs that failed `max_attempts` times, set aside for an operator (requeue by inserting them
-- back into `jobs`). They never block the jobs behind them.
CREATE TABLE dead_jobs (
    id             bigint      NOT NULL,
    application_id bigint      NOT NULL,
    chat_number    bigint      NOT NULL,
    message_number bigint,
    body           text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    attempts       integer     NOT NULL,
    last_error     text,
    failed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, id)
);

-- Deletes too large to do inside a request: a whole application (chat_number NULL) or one chat's
-- messages. The purger removes the rows in small chunks and then this row.
CREATE TABLE purges (
    id             bigint GENERATED ALWAYS AS IDENTITY,
    application_id bigint      NOT NULL,
    chat_number    bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, id)
);
