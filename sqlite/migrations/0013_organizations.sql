-- 0013_organizations: an AWS Organization's GuardDuty state per region
-- (EnableOrganizationAdminAccount, UpdateOrganizationConfiguration).
--
-- Which accounts belong to which organization is configuration (the
-- credentials file), not stored here. One row per organization and region
-- that has a delegated administrator; DisableOrganizationAdminAccount
-- deletes it. The organization's members themselves are rows of `members`
-- (associated without an invitation: invitation_id '').
--   features:       JSON list of {name, autoEnable, additional: [{name, autoEnable}]}
--   known_accounts: JSON list of the organization's accounts already seen
--                   in the region (those not in it joined later: what
--                   autoEnableOrganizationMembers NEW enables)
CREATE TABLE organizations (
    organization_id  TEXT    NOT NULL,
    region           TEXT    NOT NULL,
    administrator_id TEXT    NOT NULL,
    auto_enable      TEXT    NOT NULL CHECK (auto_enable IN ('NEW', 'ALL', 'NONE')),
    features         TEXT    NOT NULL,
    known_accounts   TEXT    NOT NULL,
    enabled_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (organization_id, region)
) STRICT;
