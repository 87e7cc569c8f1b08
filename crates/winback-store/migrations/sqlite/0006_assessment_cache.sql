-- Every customer's status and decision, computed once per state of the store
-- and config (the fingerprint) and read back by `lost` and `customer`.
CREATE TABLE assessment_cache (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL,
    as_of INTEGER NOT NULL,
    horizon TEXT NOT NULL,
    computed_at TEXT NOT NULL
);

-- In display order: gone customers by value if won back (highest first), then
-- the rest, so that `lost` reads its first rows straight off the table.
CREATE TABLE assessments (
    position INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    external_id TEXT NOT NULL,
    status TEXT NOT NULL,
    -- NULL for customers who have not gone
    decision TEXT,
    held INTEGER NOT NULL,
    value_if_won REAL,
    -- the customer's assessment as JSON, for display
    detail TEXT NOT NULL
);
-- (re)built after each write of the cache: see save_assessments
CREATE INDEX assessments_external ON assessments(external_id);
CREATE INDEX assessments_counts ON assessments(decision, status, held);
