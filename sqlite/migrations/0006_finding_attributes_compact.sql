-- 0006_finding_attributes_compact: the same rows as 0002, in half the
-- B-trees, because writing a finding's attribute rows was most of the cost
-- of writing a finding.
--
-- Before: a rowid table and three indexes, so every attribute row was
-- written four times. Now:
--   - the table is WITHOUT ROWID, keyed (scope, detector, finding, attr,
--     text): it is itself what finding_attributes_by_finding was, the
--     per-finding probe of range and matches criteria and the rewrite
--     path. One (finding, attr, text) is one row: a list holding a value
--     twice says no more to a criterion than holding it once.
--   - text and num get one partial index each, over the rows they serve:
--     string attributes have num NULL and are probed by text; number, time
--     and boolean attributes always have num and are probed by it.
-- So each row lives in two B-trees.
CREATE TABLE finding_attributes_compact (
    account_id  TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    detector_id TEXT    NOT NULL,
    finding_id  TEXT    NOT NULL,
    attr        INTEGER NOT NULL,
    text        TEXT    NOT NULL,
    num         REAL,
    PRIMARY KEY (account_id, region, detector_id, finding_id, attr, text),
    FOREIGN KEY (account_id, region, detector_id, finding_id)
        REFERENCES findings (account_id, region, detector_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

INSERT OR IGNORE INTO finding_attributes_compact
    SELECT account_id, region, detector_id, finding_id, attr, text, num FROM finding_attributes;
DROP TABLE finding_attributes;
ALTER TABLE finding_attributes_compact RENAME TO finding_attributes;

-- num is in the text index only to make it covering: a probe says
-- "num IS NULL" so that SQLite takes the partial index.
CREATE INDEX finding_attributes_by_text
    ON finding_attributes (account_id, region, detector_id, attr, text, finding_id, num)
    WHERE num IS NULL;
CREATE INDEX finding_attributes_by_num
    ON finding_attributes (account_id, region, detector_id, attr, num, finding_id)
    WHERE num IS NOT NULL;
