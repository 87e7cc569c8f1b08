-- Customers, transactions, events, imports, analysis runs and their scores.
-- Days are stored as day numbers (days since 1970-01-01), as in the domain.
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    name TEXT,
    email TEXT,
    phone TEXT,
    preferred_channel TEXT,
    consent_email INTEGER NOT NULL DEFAULT 0,
    consent_sms INTEGER NOT NULL DEFAULT 0,
    consent_phone INTEGER NOT NULL DEFAULT 0,
    consent_mail INTEGER NOT NULL DEFAULT 0,
    do_not_contact INTEGER NOT NULL DEFAULT 0,
    flags TEXT NOT NULL DEFAULT '',
    cost_to_serve REAL,
    segment TEXT,
    tags TEXT NOT NULL DEFAULT '',
    contract_start INTEGER,
    contract_end INTEGER
);

CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    rows INTEGER NOT NULL,
    imported INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    rejected INTEGER NOT NULL
);

CREATE TABLE transactions (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    day INTEGER NOT NULL,
    amount REAL,
    cost REAL,
    is_return INTEGER NOT NULL DEFAULT 0,
    txn_id TEXT,
    channel TEXT,
    store TEXT,
    product TEXT,
    dedupe_key BLOB NOT NULL UNIQUE,
    import_id INTEGER NOT NULL REFERENCES imports(id),
    line INTEGER NOT NULL
);
CREATE INDEX transactions_customer ON transactions(customer_id, day);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    day INTEGER NOT NULL,
    kind TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    dedupe_key BLOB NOT NULL UNIQUE,
    import_id INTEGER NOT NULL REFERENCES imports(id)
);
CREATE INDEX events_customer ON events(customer_id, day);

CREATE TABLE analysis_runs (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    model TEXT NOT NULL,
    params TEXT NOT NULL,
    spend_params TEXT,
    log_likelihood REAL NOT NULL,
    customers INTEGER NOT NULL,
    converged INTEGER NOT NULL,
    period TEXT NOT NULL,
    time_unit TEXT NOT NULL,
    observation_end INTEGER NOT NULL,
    horizon REAL NOT NULL
);

CREATE TABLE scores (
    run_id INTEGER NOT NULL REFERENCES analysis_runs(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    frequency INTEGER NOT NULL,
    recency REAL NOT NULL,
    t REAL NOT NULL,
    monetary_value REAL NOT NULL,
    p_alive REAL NOT NULL,
    expected_purchases REAL NOT NULL,
    expected_spend REAL,
    lifetime_value REAL,
    value_at_stake REAL NOT NULL,
    PRIMARY KEY (run_id, customer_id)
);
