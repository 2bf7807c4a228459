-- 0014_member_counts: how many members each administrator has in a region,
-- kept by triggers, so that a member operation reads the accounts it names
-- and these two numbers instead of all of the administrator's members
-- (up to 50,000: the user guide's limit).
--
-- `members` counts every membership (the limit); `active` those whose
-- status is Created, Invited, Enabled or Disabled (an account with any
-- cannot become a member itself). A row at zero is kept: it costs less than
-- deciding when to delete it.
CREATE TABLE member_counts (
    administrator_id TEXT    NOT NULL,
    region           TEXT    NOT NULL,
    members          INTEGER NOT NULL,
    active           INTEGER NOT NULL,
    PRIMARY KEY (administrator_id, region)
) STRICT, WITHOUT ROWID;

INSERT INTO member_counts (administrator_id, region, members, active)
SELECT administrator_id, region, count(*),
       sum(relationship_status IN ('Created', 'Invited', 'Enabled', 'Disabled'))
FROM members GROUP BY administrator_id, region;

CREATE TRIGGER members_count_insert AFTER INSERT ON members BEGIN
    INSERT OR IGNORE INTO member_counts (administrator_id, region, members, active)
    VALUES (new.administrator_id, new.region, 0, 0);
    UPDATE member_counts SET members = members + 1,
        active = active + (new.relationship_status IN ('Created', 'Invited', 'Enabled', 'Disabled'))
    WHERE administrator_id = new.administrator_id AND region = new.region;
END;

CREATE TRIGGER members_count_delete AFTER DELETE ON members BEGIN
    UPDATE member_counts SET members = members - 1,
        active = active - (old.relationship_status IN ('Created', 'Invited', 'Enabled', 'Disabled'))
    WHERE administrator_id = old.administrator_id AND region = old.region;
END;

-- The key columns never change (an upsert updates the others), so only the
-- status can move a membership between the counts.
CREATE TRIGGER members_count_update AFTER UPDATE OF relationship_status ON members BEGIN
    UPDATE member_counts SET
        active = active - (old.relationship_status IN ('Created', 'Invited', 'Enabled', 'Disabled'))
                        + (new.relationship_status IN ('Created', 'Invited', 'Enabled', 'Disabled'))
    WHERE administrator_id = old.administrator_id AND region = old.region;
END;
