-- Pages of one decision in display order read from an index (rebuilt with the
-- others after each save of the cached assessment).
CREATE INDEX IF NOT EXISTS assessments_decision ON assessments(decision, position);
