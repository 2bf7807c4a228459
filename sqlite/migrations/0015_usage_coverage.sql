-- 0015_usage_coverage: what detectors analysed (GetUsageStatistics) and
-- the resources they observed in analysed logs (ListCoverage).
--
-- usage holds one row per detector, UTC day, feature and resource, whatever
-- the number of ingests: an ingest adds to its rows (UPSERT), so a million
-- records cost a handful of rows. resource_id '' is volume no resource was
-- named for. day is the day's first millisecond (UTC). The key puts day
-- last, so that summing a window's days per feature and resource reads the
-- key in order (no sort); usage_days finds the days past keeping.
CREATE TABLE usage (
    account_id  TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    detector_id TEXT    NOT NULL,
    day         INTEGER NOT NULL,
    feature     TEXT    NOT NULL,
    resource_id TEXT    NOT NULL,
    records     INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, detector_id, feature, resource_id, day),
    FOREIGN KEY (account_id, region, detector_id)
        REFERENCES detectors (account_id, region, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX usage_days ON usage (account_id, region, detector_id, day);

-- coverage holds one row per detector and observed resource (type EC2 or
-- EKS, id an instance id or a cluster name); last_seen is the latest
-- record time (ms) that named it.
CREATE TABLE coverage (
    account_id    TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    detector_id   TEXT    NOT NULL,
    resource_type TEXT    NOT NULL,
    resource_id   TEXT    NOT NULL,
    instance_type TEXT    NOT NULL,
    cluster_name  TEXT    NOT NULL,
    last_seen     INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, detector_id, resource_type, resource_id),
    FOREIGN KEY (account_id, region, detector_id)
        REFERENCES detectors (account_id, region, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
