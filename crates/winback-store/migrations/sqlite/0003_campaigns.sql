-- Win-back campaigns: frozen members split into treatment and holdout, what was
-- sent to whom, opt-outs from unsubscribe links, follow-up check-ins.
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    start_day INTEGER NOT NULL,
    target TEXT NOT NULL,
    holdout REAL NOT NULL,
    seed INTEGER NOT NULL,
    window_days INTEGER NOT NULL,
    base_rate REAL NOT NULL,
    detectable_lift REAL NOT NULL,
    -- the playbook as it was when the campaign was frozen
    playbook TEXT NOT NULL,
    run_id INTEGER
);

CREATE TABLE campaign_members (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    arm TEXT NOT NULL,
    tier TEXT NOT NULL,
    category TEXT NOT NULL,
    rule TEXT NOT NULL,
    strategy TEXT NOT NULL,
    channel TEXT NOT NULL,
    coupon TEXT UNIQUE,
    unsubscribe_token TEXT NOT NULL UNIQUE,
    value_if_won REAL NOT NULL,
    -- pending → claimed → sent | task | failed; holdout for control members
    state TEXT NOT NULL,
    contacted_day INTEGER,
    message_id TEXT,
    error TEXT,
    PRIMARY KEY (campaign_id, customer_id)
);
CREATE INDEX campaign_members_customer ON campaign_members(customer_id);

CREATE TABLE opt_outs (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    channel TEXT NOT NULL,
    day INTEGER NOT NULL,
    source TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (customer_id, channel)
);

CREATE TABLE followups (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    offset_days INTEGER NOT NULL,
    done_day INTEGER NOT NULL,
    satisfied INTEGER,
    score INTEGER,
    note TEXT,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (campaign_id, customer_id, offset_days)
);
