-- 0002_finding_attributes: the values of every filter attribute of every
-- finding, so that ListFindings with findingCriteria is answered from
-- indexes instead of by decoding documents.
--
-- One row per value guardpost.FindingAttributes yields: attr is the index
-- into guardpost.FilterAttributes, text the value's text (what matches and
-- string equals compare), num its numeric form for number, time (epoch ms)
-- and boolean (0/1) attributes and NULL otherwise. A list-valued attribute
-- has one row per element.
--
-- The rows are rewritten with their finding by MergeFindings and
-- UpdateFindings, and deleted with it (and with its detector) through the
-- cascading foreign key. There is no backfill: findings written before this
-- migration simply have no rows until they are next written, so criteria
-- treat them as lacking every attribute (they match notEquals/notMatches
-- only). No deployed database predates it.
CREATE TABLE finding_attributes (
    account_id  TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    detector_id TEXT    NOT NULL,
    finding_id  TEXT    NOT NULL,
    attr        INTEGER NOT NULL,
    text        TEXT    NOT NULL,
    num         REAL,
    FOREIGN KEY (account_id, region, detector_id, finding_id)
        REFERENCES findings (account_id, region, detector_id, id) ON DELETE CASCADE
) STRICT;

-- The criteria probes: ListFindings walks a sort index of findings and, per
-- finding, probes the rows of (finding, attr) here. An equals probe seeks
-- (attr, value, finding) in the text or num index, one seek per value
-- (finding_id last for that); range and matches probes seek (finding, attr)
-- in the last index and test the few rows there. The queries name the index
-- (INDEXED BY): a range on num would otherwise tempt the planner into the
-- num index, whose range is not bounded to the finding.
CREATE INDEX finding_attributes_by_text
    ON finding_attributes (account_id, region, detector_id, attr, text, finding_id);
CREATE INDEX finding_attributes_by_num
    ON finding_attributes (account_id, region, detector_id, attr, num, finding_id);
-- Also rewriting and deleting one finding's rows (and the foreign key's
-- cascade). Covering, so a probe never reads the table.
CREATE INDEX finding_attributes_by_finding
    ON finding_attributes (account_id, region, detector_id, finding_id, attr, text, num);
