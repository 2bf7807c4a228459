-- 0004_filters: saved finding filters (CreateFilter and friends).
--
-- A filter belongs to one detector and is named uniquely within it; it goes
-- with its detector. criteria is the guardpost.Criteria as JSON (see
-- filter.go), tags a JSON object or null.
CREATE TABLE filters (
    account_id   TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    detector_id  TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    action       TEXT    NOT NULL CHECK (action IN ('NOOP', 'ARCHIVE')),
    rank         INTEGER NOT NULL,
    criteria     TEXT    NOT NULL,
    tags         TEXT    NOT NULL,
    client_token TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, detector_id, name),
    FOREIGN KEY (account_id, region, detector_id)
        REFERENCES detectors (account_id, region, id) ON DELETE CASCADE
) STRICT;
