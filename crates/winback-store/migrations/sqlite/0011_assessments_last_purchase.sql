-- The customers list sorts by last purchase too (most recently gone first, or
-- longest gone): the day kept beside the cached assessment, which is rebuilt.
ALTER TABLE assessments ADD COLUMN last_day INTEGER;
DELETE FROM assessments;
DELETE FROM assessment_cache;
