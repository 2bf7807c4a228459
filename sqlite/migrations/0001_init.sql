-- 0001_init: detectors and findings.
--
-- Tables are STRICT so a value of the wrong type is an error instead of a
-- silent conversion. Times are epoch milliseconds (UTC). Every row carries
-- its scope (account_id, region) and every key starts with it.

CREATE TABLE detectors (
    account_id                   TEXT    NOT NULL,
    region                       TEXT    NOT NULL,
    id                           TEXT    NOT NULL,
    client_token                 TEXT    NOT NULL,
    status                       TEXT    NOT NULL,
    finding_publishing_frequency TEXT    NOT NULL,
    features                     TEXT    NOT NULL, -- JSON, see detector.go
    tags                         TEXT    NOT NULL, -- JSON object or null
    created_at                   INTEGER NOT NULL,
    updated_at                   INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, id)
) STRICT;

-- A scope holds at most one detector: this index, not a read-then-write
-- check, is what makes a concurrent second InsertDetector fail.
CREATE UNIQUE INDEX detectors_one_per_scope ON detectors (account_id, region);

-- The s_* columns hold one sort key per guardpost.SortAttributes entry (the
-- mapping is sortColumns in finding.go). They are declared ANY so that SQLite
-- keeps each value exactly as bound: REAL for numeric keys, TEXT for string
-- keys, NULL when the finding lacks the attribute. (In a non-STRICT table an
-- "ANY" column has NUMERIC affinity and would turn 5.0 into the integer 5.)
CREATE TABLE findings (
    account_id      TEXT    NOT NULL,
    region          TEXT    NOT NULL,
    detector_id     TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    severity        REAL    NOT NULL,
    archived        INTEGER NOT NULL CHECK (archived IN (0, 1)),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    aggregation_key TEXT,            -- NULL: the finding never aggregates
    document        TEXT    NOT NULL, -- the finding JSON, byte for byte
    s_account_id        ANY,
    s_severity          ANY,
    s_confidence        ANY,
    s_type              ANY,
    s_event_first_seen  ANY,
    s_event_last_seen   ANY,
    s_created_at        ANY,
    s_updated_at        ANY,
    s_remote_ip         ANY,
    s_instance_id       ANY,
    s_local_port        ANY,
    s_remote_port       ANY,
    s_remote_country    ANY,
    s_protocol          ANY,
    s_api               ANY,
    s_service_name      ANY,
    s_blocked           ANY,
    s_count             ANY,
    PRIMARY KEY (account_id, region, detector_id, id),
    FOREIGN KEY (account_id, region, detector_id)
        REFERENCES detectors (account_id, region, id) ON DELETE CASCADE
) STRICT;

-- The aggregation lookup of MergeFindings (id last, so that its ORDER BY id
-- LIMIT 1 is served too). Partial: findings without a key never aggregate,
-- so they need no entry. Not UNIQUE: MergeFindings keeps one finding per
-- key, and a merge function that broke that should not make writes fail.
CREATE INDEX findings_by_aggregation
    ON findings (account_id, region, detector_id, type, aggregation_key, id)
    WHERE aggregation_key IS NOT NULL;

-- One index per sort column. Each serves ORDER BY <col>, id within a
-- detector in both directions (descending scans it backwards and orders
-- each run of equal keys by id) and keeps NULL keys apart at its start, so
-- every page of ListFindings is a range scan that reads no more rows than
-- it returns (plus one run of equal keys when descending).
CREATE INDEX findings_by_s_account_id       ON findings (account_id, region, detector_id, s_account_id, id);
CREATE INDEX findings_by_s_severity         ON findings (account_id, region, detector_id, s_severity, id);
CREATE INDEX findings_by_s_confidence       ON findings (account_id, region, detector_id, s_confidence, id);
CREATE INDEX findings_by_s_type             ON findings (account_id, region, detector_id, s_type, id);
CREATE INDEX findings_by_s_event_first_seen ON findings (account_id, region, detector_id, s_event_first_seen, id);
CREATE INDEX findings_by_s_event_last_seen  ON findings (account_id, region, detector_id, s_event_last_seen, id);
CREATE INDEX findings_by_s_created_at       ON findings (account_id, region, detector_id, s_created_at, id);
CREATE INDEX findings_by_s_updated_at       ON findings (account_id, region, detector_id, s_updated_at, id);
CREATE INDEX findings_by_s_remote_ip        ON findings (account_id, region, detector_id, s_remote_ip, id);
CREATE INDEX findings_by_s_instance_id      ON findings (account_id, region, detector_id, s_instance_id, id);
CREATE INDEX findings_by_s_local_port       ON findings (account_id, region, detector_id, s_local_port, id);
CREATE INDEX findings_by_s_remote_port      ON findings (account_id, region, detector_id, s_remote_port, id);
CREATE INDEX findings_by_s_remote_country   ON findings (account_id, region, detector_id, s_remote_country, id);
CREATE INDEX findings_by_s_protocol         ON findings (account_id, region, detector_id, s_protocol, id);
CREATE INDEX findings_by_s_api              ON findings (account_id, region, detector_id, s_api, id);
CREATE INDEX findings_by_s_service_name     ON findings (account_id, region, detector_id, s_service_name, id);
CREATE INDEX findings_by_s_blocked          ON findings (account_id, region, detector_id, s_blocked, id);
CREATE INDEX findings_by_s_count            ON findings (account_id, region, detector_id, s_count, id);
