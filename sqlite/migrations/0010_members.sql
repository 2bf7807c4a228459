-- 0010_members: administrator and member accounts (CreateMembers and the
-- invitation operations).
--
-- One row per (administrator, region, member account): the
-- administrator's record of the member and, in `invitation`, the member's
-- side of it (see guardpost.Membership). Rows are not tied to a detector:
-- an invitation reaches an account that may have none yet.
-- invitation_id is '' and invited_at NULL before the first invitation.
CREATE TABLE members (
    administrator_id    TEXT    NOT NULL,
    region              TEXT    NOT NULL,
    account_id          TEXT    NOT NULL,
    email               TEXT    NOT NULL,
    relationship_status TEXT    NOT NULL CHECK (relationship_status IN
        ('Created', 'Invited', 'Enabled', 'Disabled', 'Removed', 'Resigned')),
    invitation_id       TEXT    NOT NULL,
    invited_at          INTEGER,
    invitation          TEXT    NOT NULL CHECK (invitation IN ('', 'PENDING', 'ACCEPTED', 'DECLINED')),
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (administrator_id, region, account_id)
) STRICT;

-- The member's side: its invitations (ListInvitations) and the rows
-- ChangeMemberships reads by member account.
CREATE INDEX members_by_account ON members (account_id, region, administrator_id);

-- An account has at most one administrator per region: the service checks
-- it inside the write transaction, and this index makes a bug that slips
-- past the check fail instead of storing two.
CREATE UNIQUE INDEX members_one_administrator ON members (account_id, region) WHERE invitation = 'ACCEPTED';
