-- Why customers left, and the root causes behind it, tracked to fixed.
CREATE TABLE root_causes (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    -- reason category keys, comma-separated
    categories TEXT NOT NULL,
    scope TEXT NOT NULL,
    status TEXT NOT NULL,
    fixed_on INTEGER,
    announcement TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE reasons (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    category TEXT NOT NULL,
    scope TEXT NOT NULL,
    detail TEXT,
    suggestion TEXT,
    source TEXT NOT NULL,
    day INTEGER NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    cause_id INTEGER REFERENCES root_causes(id),
    dedupe_key BLOB NOT NULL UNIQUE
);
CREATE INDEX reasons_customer ON reasons(customer_id);
CREATE INDEX reasons_cause ON reasons(cause_id);
