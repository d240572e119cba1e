-- Whether a release before V20 has a session in this database (`store::releases`): those named
-- themselves `chat-system` (the pool) and `chat-system migrations`.
SELECT EXISTS (SELECT 1 FROM pg_stat_activity
               WHERE datname = current_database()
                 AND application_name IN ('chat-system', 'chat-system migrations'))
