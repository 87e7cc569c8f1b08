-- The measurement behind dropping foreign keys on bulk imports: insert 3M stored
-- transactions into a copy of the table without, then with, the foreign keys.
-- Run after bench/import.sh has filled schema wb_bench:
--   psql postgres://postgres@127.0.0.1:5432/test -f bench/pg_foreign_keys.sql
SET search_path TO wb_bench;
\timing on
CREATE TABLE tx2 (LIKE transactions INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY);
ALTER TABLE tx2 ADD UNIQUE (dedupe_key);
INSERT INTO tx2 (customer_id, day, amount, cost, is_return, txn_id, channel, store, product, dedupe_key, import_id, line) SELECT customer_id, day, amount, cost, is_return, txn_id, channel, store, product, dedupe_key, import_id, line FROM transactions WHERE id <= 3000000 ORDER BY dedupe_key;
TRUNCATE tx2;
ALTER TABLE tx2 ADD FOREIGN KEY (customer_id) REFERENCES customers(id);
ALTER TABLE tx2 ADD FOREIGN KEY (import_id) REFERENCES imports(id);
INSERT INTO tx2 (customer_id, day, amount, cost, is_return, txn_id, channel, store, product, dedupe_key, import_id, line) SELECT customer_id, day, amount, cost, is_return, txn_id, channel, store, product, dedupe_key, import_id, line FROM transactions WHERE id <= 3000000 ORDER BY dedupe_key;
DROP TABLE tx2;
