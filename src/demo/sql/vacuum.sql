-- After a load: merges the search indexes' pending lists and refreshes the planner's statistics,
-- so the first searches are as fast as later ones.
VACUUM ANALYZE messages, chats, chat_counters, applications
