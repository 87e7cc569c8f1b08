-- Customers, transactions, events, imports, analysis runs and their scores.
-- Days are stored as day numbers (days since 1970-01-01), as in the domain.
CREATE TABLE customers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    name TEXT,
    email TEXT,
    phone TEXT,
    preferred_channel TEXT,
    consent_email BOOLEAN NOT NULL DEFAULT FALSE,
    consent_sms BOOLEAN NOT NULL DEFAULT FALSE,
    consent_phone BOOLEAN NOT NULL DEFAULT FALSE,
    consent_mail BOOLEAN NOT NULL DEFAULT FALSE,
    do_not_contact BOOLEAN NOT NULL DEFAULT FALSE,
    flags TEXT NOT NULL DEFAULT '',
    cost_to_serve DOUBLE PRECISION,
    segment TEXT,
    tags TEXT NOT NULL DEFAULT '',
    contract_start INTEGER,
    contract_end INTEGER
);

CREATE TABLE imports (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    rows BIGINT NOT NULL,
    imported BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    rejected BIGINT NOT NULL
);

CREATE TABLE transactions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    day INTEGER NOT NULL,
    amount DOUBLE PRECISION,
    cost DOUBLE PRECISION,
    is_return BOOLEAN NOT NULL DEFAULT FALSE,
    txn_id TEXT,
    channel TEXT,
    store TEXT,
    product TEXT,
    dedupe_key BYTEA NOT NULL UNIQUE,
    import_id BIGINT NOT NULL REFERENCES imports(id),
    line BIGINT NOT NULL
);
CREATE INDEX transactions_customer ON transactions(customer_id, day);

CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    day INTEGER NOT NULL,
    kind TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    dedupe_key BYTEA NOT NULL UNIQUE,
    import_id BIGINT NOT NULL REFERENCES imports(id)
);
CREATE INDEX events_customer ON events(customer_id, day);

CREATE TABLE analysis_runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at TEXT NOT NULL,
    model TEXT NOT NULL,
    params TEXT NOT NULL,
    spend_params TEXT,
    log_likelihood DOUBLE PRECISION NOT NULL,
    customers BIGINT NOT NULL,
    converged BOOLEAN NOT NULL,
    period TEXT NOT NULL,
    time_unit TEXT NOT NULL,
    observation_end INTEGER NOT NULL,
    horizon DOUBLE PRECISION NOT NULL
);

CREATE TABLE scores (
    run_id BIGINT NOT NULL REFERENCES analysis_runs(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    frequency BIGINT NOT NULL,
    recency DOUBLE PRECISION NOT NULL,
    t DOUBLE PRECISION NOT NULL,
    monetary_value DOUBLE PRECISION NOT NULL,
    p_alive DOUBLE PRECISION NOT NULL,
    expected_purchases DOUBLE PRECISION NOT NULL,
    expected_spend DOUBLE PRECISION,
    lifetime_value DOUBLE PRECISION,
    value_at_stake DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run_id, customer_id)
);
