-- Nothing to change on PostgreSQL: its transactions are keyed by their dedupe
-- key since version 4, and a bulk import rebuilds the indexes by sorting, which
-- PostgreSQL does quickly. (On SQLite this version moves the keys to a ledger.)
SELECT 1;
