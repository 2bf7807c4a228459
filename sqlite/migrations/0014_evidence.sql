-- 0014_evidence: what detection keeps beside findings.
--
-- finding_evidence holds the log records that made a detection finding,
-- as they were received, bounded per finding: the first and the latest
-- guardpost.EvidenceKept records across its occurrences. seq is a record's
-- position among every record the finding was made of (from 0), so the
-- total is max(seq) + 1 (the latest record is always kept) and the gap
-- between the first and the latest shows where records were left out.
-- size is the record's length as received; a longer record than
-- guardpost.MaxEvidenceRecordBytes is stored cut (length(record) < size).
-- Rows are keyed by the finding's id as the pipeline wrote it (an
-- aggregated occurrence lands on the stored finding's id).
--
-- detection_state holds each detector's detection state (event-time
-- windows, baselines) as named blobs, written in the same transaction as
-- the findings.
--
-- Both go with their detector (the foreign key, and DeleteDetector
-- deletes them explicitly).
CREATE TABLE finding_evidence (
    account_id  TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    detector_id TEXT    NOT NULL,
    finding_id  TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    record      BLOB    NOT NULL,
    PRIMARY KEY (account_id, region, detector_id, finding_id, seq),
    FOREIGN KEY (account_id, region, detector_id)
        REFERENCES detectors (account_id, region, id) ON DELETE CASCADE
) STRICT;

CREATE TABLE detection_state (
    account_id  TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    detector_id TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    state       BLOB    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, detector_id, name),
    FOREIGN KEY (account_id, region, detector_id)
        REFERENCES detectors (account_id, region, id) ON DELETE CASCADE
) STRICT;
