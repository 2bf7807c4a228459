-- 0008_drop_finding_attributes: criteria and statistics are answered by
-- the in-memory index (package index), built from the findings' documents,
-- so the per-attribute rows (about 70 per finding, most of the cost of a
-- write and of the database's size) are no longer written or read.
DROP TABLE finding_attributes;
