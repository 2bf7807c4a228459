package guardpost

import (
	"context"
	"time"
)

// Finding changes, as the outbox records them.
const (
	ChangeCreated    = "created"    // a new finding
	ChangeUpdated    = "updated"    // a new occurrence, a replacement, or feedback
	ChangeArchived   = "archived"   // archived by a user or an ARCHIVE filter on an update
	ChangeUnarchived = "unarchived" // unarchived by a user
)

// FindingChange is one entry of the outbox: a finding written by one
// transaction, and how. Seq orders the outbox: entries are numbered as
// their transactions commit, so a consumer that remembers the last Seq it
// handled resumes without missing or repeating one.
type FindingChange struct {
	Seq        int64
	AccountID  string
	Region     string
	DetectorID string
	FindingID  string
	Change     string // ChangeCreated, ChangeUpdated, ChangeArchived or ChangeUnarchived
	At         time.Time
}

// OutboxStore reads the record of finding changes that every finding write
// appends to in its own transaction (export and the console will consume it).
type OutboxStore interface {
	// FindingChanges returns up to limit outbox entries with Seq greater
	// than after, in Seq order. A consumer passes the last Seq it handled.
	FindingChanges(ctx context.Context, after int64, limit int) ([]FindingChange, error)
}

// ChangeOf names what writing written in place of stored (nil: nothing
// was stored) did, as the outbox records it. Stores call it so that every
// engine records the same kinds.
func ChangeOf(stored, written *Finding) string {
	switch {
	case stored == nil:
		return ChangeCreated
	case !stored.Archived && written.Archived:
		return ChangeArchived
	case stored.Archived && !written.Archived:
		return ChangeUnarchived
	}
	return ChangeUpdated
}
