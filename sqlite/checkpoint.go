package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// Checkpoints (copying the WAL's pages into the database file) run on a
// connection of their own, beside the writer, rather than inside the
// commit that crossed SQLite's threshold. A checkpoint after an import's
// batch of 2,000 findings copies some 2,700 pages and fsyncs the database
// file: done by the writer's connection, every write queued behind it
// waited for that too. Durability does not depend on them: a commit is
// fsynced to the WAL before it returns (synchronous=FULL), and a crash
// mid-checkpoint is recovered from the WAL at the next open.
//
// The writer still checkpoints by itself past writerCheckpointPages (a
// safety net when the background falls behind, or for writes that do not
// wake it), and journal_size_limit gives the WAL file back down to
// walKeepBytes when a checkpoint has emptied it, so that a burst does not
// leave the file at its high-water mark.
const (
	// checkpointAfterFindings is how many findings written since the last
	// background checkpoint wake the next: a finding takes one to four WAL
	// pages (its row, a page of the key's index, its outbox entry), so
	// this is about SQLite's default threshold of 1,000 pages.
	checkpointAfterFindings = 500
	// writerCheckpointPages is the WAL size, in pages, past which the
	// writer's commit checkpoints by itself (unless the background one is
	// at it: the writer's is skipped then). Under a steady import the next
	// batch often begins before the background checkpoint has copied the
	// last, and the WAL, which restarts from its start only when fully
	// copied, grows instead: this bounds it to about 16 MiB and a batch.
	writerCheckpointPages = 4096
	// walKeepBytes is what the WAL file is cut back to once emptied: about
	// a third of an import batch, so that a batch regrows it once.
	walKeepBytes = 4 << 20
	// truncateAfterIdle is how long after its last checkpoint, with no
	// writes enough to wake it again, the checkpointer empties the WAL
	// file: a WAL restarts (and is cut to walKeepBytes) only when a write
	// begins after a complete checkpoint, so without this the last burst's
	// WAL would stay on disk until the next write.
	truncateAfterIdle = time.Second
)

// checkpointer runs PASSIVE checkpoints on its own connection when enough
// findings were written since the last one. A PASSIVE checkpoint takes no
// lock the writer or the readers wait for: it copies what it can and
// leaves the rest for the next one.
type checkpointer struct {
	db      *sql.DB
	pending atomic.Int64 // findings written since the last checkpoint began
	wake    chan struct{}
	stop    context.CancelFunc
	wg      sync.WaitGroup
	// done counts the checkpoints run (tests wait for one).
	done atomic.Int64
}

// startCheckpointer opens the checkpoints' connection to the database at
// dsn and starts its goroutine.
func startCheckpointer(dsn string, log func(msg string, args ...any)) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{db: db, wake: make(chan struct{}, 1), stop: stop}
	c.wg.Go(func() {
		idle := time.NewTimer(truncateAfterIdle)
		idle.Stop()
		for {
			mode := "PASSIVE"
			select {
			case <-ctx.Done():
				return
			case <-c.wake:
				c.pending.Store(0)
				idle.Reset(truncateAfterIdle)
			case <-idle.C:
				// TRUNCATE waits for no one: busy_timeout is 0 on this
				// connection, so with a write or an older reader under
				// way it does what PASSIVE would and gives up (for good:
				// the next burst's checkpoints come back here).
				mode = "TRUNCATE"
			}
			if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`); err != nil && ctx.Err() == nil {
				// The next one, or the writer's own, will copy what this
				// one did not: nothing is lost, only delayed.
				log("background WAL checkpoint failed", "mode", mode, "err", err)
			}
			c.done.Add(1)
		}
	})
	return c, nil
}

// wrote records that a committed transaction wrote n findings, and wakes
// the checkpointer when enough have accumulated.
func (c *checkpointer) wrote(n int) {
	if c == nil || n <= 0 {
		return
	}
	if c.pending.Add(int64(n)) >= checkpointAfterFindings {
		select {
		case c.wake <- struct{}{}:
		default: // already awake
		}
	}
}

// close stops the goroutine (a checkpoint under way is interrupted) and
// closes the connection.
func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	c.stop()
	c.wg.Wait()
	return c.db.Close()
}
