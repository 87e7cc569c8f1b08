-- Campaign summaries count members by arm and state: from the index alone,
-- not a row lookup per member (274 ms → a few ms for 150k members).
CREATE INDEX campaign_members_counts ON campaign_members(campaign_id, arm, state);
