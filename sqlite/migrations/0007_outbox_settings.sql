-- 0007_outbox_settings: the outbox of finding changes, and settings shared
-- by every node on the database (the page-token key).
--
-- Every finding write appends one row per finding it wrote, in the same
-- transaction. seq is AUTOINCREMENT so a number is never reused, even after
-- the newest rows are deleted; with SQLite's single writer, seq order is
-- commit order, which lets a consumer resume after the last seq it handled.
-- No foreign key: an entry outlives its finding (a consumer may still need
-- to hear of a change to a finding deleted since).
CREATE TABLE finding_changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    detector_id TEXT    NOT NULL,
    finding_id  TEXT    NOT NULL,
    change      TEXT    NOT NULL CHECK (change IN ('created', 'updated', 'archived', 'unarchived')),
    at          INTEGER NOT NULL
) STRICT;

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;
