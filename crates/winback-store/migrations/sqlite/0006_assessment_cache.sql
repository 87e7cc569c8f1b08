-- Every customer's status and decision, computed once per state of the store
-- and config (the fingerprint) and read back by `lost` and `customer`.
CREATE TABLE assessment_cache (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL,
    as_of INTEGER NOT NULL,
    horizon TEXT NOT NULL,
    computed_at TEXT NOT NULL
);

CREATE TABLE assessments (
    customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
    status TEXT NOT NULL,
    -- NULL for customers who have not gone
    decision TEXT,
    held INTEGER NOT NULL,
    value_if_won REAL,
    -- the customer's assessment as JSON, for display
    detail TEXT NOT NULL
);
CREATE INDEX assessments_gone ON assessments(value_if_won DESC, customer_id) WHERE decision IS NOT NULL;
