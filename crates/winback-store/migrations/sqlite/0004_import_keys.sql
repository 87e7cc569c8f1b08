-- Nothing to change on SQLite: text compares byte by byte already (BINARY
-- collation), and the rowid costs no index of its own. (On PostgreSQL this
-- version makes customers.external_id COLLATE "C" and keys transactions by
-- their dedupe key.)
SELECT 1;
