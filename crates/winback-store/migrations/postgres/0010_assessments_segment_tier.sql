-- The customers list filters by segment and value tier: both kept beside the
-- cached assessment. Existing caches lack them, so they are recomputed.
ALTER TABLE assessments ADD COLUMN segment TEXT;
ALTER TABLE assessments ADD COLUMN tier TEXT;
DELETE FROM assessments;
DELETE FROM assessment_cache;
