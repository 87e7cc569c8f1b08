-- People who sign in to the web app. Passwords as argon2id PHC strings.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'staff')),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

-- Server-side sessions: only the SHA-256 of the cookie's id is kept.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Personal exit-survey links made for one customer (`winback survey link`);
-- only the token's SHA-256 is kept. Campaign members' links use their member
-- token and get a row here when they first answer.
CREATE TABLE survey_links (
    token_hash TEXT PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    campaign_id INTEGER REFERENCES campaigns(id),
    created_at TEXT NOT NULL
);

-- One answer per link, editable for a while; the reasons it became.
CREATE TABLE survey_responses (
    token_hash TEXT PRIMARY KEY REFERENCES survey_links(token_hash),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    campaign_id INTEGER REFERENCES campaigns(id),
    answers TEXT NOT NULL,
    come_back TEXT NOT NULL,
    first_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    reason_ids TEXT NOT NULL
);
CREATE INDEX survey_responses_campaign ON survey_responses(campaign_id);

-- A customer who said they would not come back: keep in touch, don't chase.
ALTER TABLE reasons ADD COLUMN wont_return INTEGER NOT NULL DEFAULT 0;
