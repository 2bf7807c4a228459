-- 0009_finding_records: each finding stored once, compressed, with the
-- binary record its index is built from (package findingrec).
--
-- Before: the document as JSON text beside eighteen sort-key columns, each
-- with its own index, and a few query columns: 6.5 KB a finding on disk,
-- and building a detector's index meant parsing every document again. Now
-- listings and statistics all come from the in-memory index, so findings
-- keeps only:
--   - the key, type and aggregation_key: MergeFindings looks a finding up
--     by id or by (type, aggregation key) inside its transaction;
--   - feedback_comments, which the Finding object has no member for;
--   - record: the values the index and rewrites need (severity, times,
--     resource, sort keys, every filter attribute's values) as a findingrec
--     record, zstd-compressed;
--   - document: the Finding JSON, zstd-compressed with findingrec's
--     dictionary; it decompresses to the exact bytes GetFindings returns.
--
-- attribute_ids is the findingrec registry the records were written with:
-- the meaning of every attribute number. Open compares it with the code's
-- and refuses a database that gives a number another meaning.
--
-- The conversion of existing findings is Go (each document is parsed and
-- compressed): it runs at the marker below, inside this migration's
-- transaction, so a crash leaves the old schema intact.
CREATE TABLE attribute_ids (
    id    INTEGER PRIMARY KEY,
    space TEXT    NOT NULL CHECK (space IN ('filter', 'sort')),
    kind  TEXT    NOT NULL,
    name  TEXT    NOT NULL,
    path  TEXT    NOT NULL
) STRICT;

CREATE TABLE findings_v9 (
    account_id        TEXT NOT NULL,
    region            TEXT NOT NULL,
    detector_id       TEXT NOT NULL,
    id                TEXT NOT NULL,
    type              TEXT NOT NULL,
    aggregation_key   TEXT,          -- NULL: the finding never aggregates
    feedback_comments TEXT NOT NULL,
    record            BLOB NOT NULL,
    document          BLOB NOT NULL,
    PRIMARY KEY (account_id, region, detector_id, id),
    FOREIGN KEY (account_id, region, detector_id)
        REFERENCES detectors (account_id, region, id) ON DELETE CASCADE
) STRICT;

-- @go convertFindings

DROP TABLE findings;
ALTER TABLE findings_v9 RENAME TO findings;

-- The aggregation lookup of MergeFindings, as before.
CREATE INDEX findings_by_aggregation
    ON findings (account_id, region, detector_id, type, aggregation_key, id)
    WHERE aggregation_key IS NOT NULL;
