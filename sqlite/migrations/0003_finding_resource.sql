-- 0003_finding_resource: the resource a finding is about, for
-- GetFindingsStatistics grouped by RESOURCE. resource_type is the
-- document's resource.resourceType, resource_id the id of the resource that
-- type names (guardpost.Finding.ResourceType / ResourceID); '' when absent.
--
-- Both are written with the finding by MergeFindings and UpdateFindings.
-- There is no backfill: findings written before this migration read as
-- having no resource until they are next written. No deployed database
-- predates it.
ALTER TABLE findings ADD COLUMN resource_id TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN resource_type TEXT NOT NULL DEFAULT '';
