-- 0012_threat_lists: IP sets, threat intel sets and entity sets
-- (CreateIPSet and friends).
--
-- A list belongs to one detector and goes with it. A deleted list stays,
-- with status DELETED, because GetIPSet answers for it (Terraform's
-- provider waits for that status). generation counts the status changes
-- asked for, so that background work of an older one writes nothing.
-- entries holds the entries read at the last activation, one per line in
-- intel.ParseList's canonical form; tags is a JSON object or null.
CREATE TABLE threat_lists (
    account_id            TEXT    NOT NULL,
    region                TEXT    NOT NULL,
    detector_id           TEXT    NOT NULL,
    kind                  TEXT    NOT NULL CHECK (kind IN ('ipset', 'threatintelset', 'trustedentityset', 'threatentityset')),
    id                    TEXT    NOT NULL,
    name                  TEXT    NOT NULL,
    format                TEXT    NOT NULL,
    location              TEXT    NOT NULL,
    expected_bucket_owner TEXT    NOT NULL,
    status                TEXT    NOT NULL,
    error_details         TEXT    NOT NULL,
    generation            INTEGER NOT NULL,
    entry_count           INTEGER NOT NULL,
    entries               TEXT    NOT NULL,
    tags                  TEXT    NOT NULL,
    client_token          TEXT    NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, detector_id, kind, id),
    FOREIGN KEY (account_id, region, detector_id)
        REFERENCES detectors (account_id, region, id) ON DELETE CASCADE
) STRICT;

-- Lists on their way somewhere, or ACTIVE, are read at every start.
CREATE INDEX threat_lists_status ON threat_lists (status) WHERE status NOT IN ('INACTIVE', 'ERROR', 'DELETED');
