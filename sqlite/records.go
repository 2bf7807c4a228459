package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/findingrec"
)

// A finding is stored as two compressed blobs (see migration 0009): its
// findingrec record and its document. encodeFinding and decodeFinding turn
// a guardpost.Finding into them and back.

// stored is a finding's row values in their stored form.
type stored struct {
	record, document []byte
}

// encodeScratch holds the buffers encodeFinding works in. Compression
// wants room for the worst case (more than the input) and the record is
// thrown away once compressed: allocating them per finding cost a clear
// of that room each time, and the blobs an import holds until its
// transaction kept the whole room alive.
type encodeScratch struct{ rec, out []byte }

var encodeScratches = sync.Pool{New: func() any { return &encodeScratch{} }}

// encodeFinding compresses f's record and document.
func encodeFinding(c *findingrec.Codec, f *guardpost.Finding) (stored, error) {
	sc := encodeScratches.Get().(*encodeScratch)
	defer encodeScratches.Put(sc)
	rec, head, err := c.AppendSplit(sc.rec[:0], f)
	if err != nil {
		return stored{}, err
	}
	sc.rec = rec
	// The record's head is kept as it is: reads that return findings need
	// only the head (findingrec.DecompressHead).
	if sc.out, err = findingrec.CompressSplit(sc.out[:0], rec, head); err != nil {
		return stored{}, err
	}
	n := len(sc.out)
	if sc.out, err = findingrec.Compress(sc.out, f.Document); err != nil {
		return stored{}, err
	}
	// One allocation for both blobs, sized to them (the scratch has the
	// worst case's room).
	both := slices.Clone(sc.out)
	return stored{record: both[:n:n], document: both[n:]}, nil
}

// compressRecord compresses a record, keeping its head as it is: reads
// that return findings need only the head (findingrec.DecompressHead).
func compressRecord(c *findingrec.Codec, rec, dst []byte) ([]byte, error) {
	head, err := c.HeadSize(rec)
	if err != nil {
		return nil, err
	}
	return findingrec.CompressSplit(dst, rec, head)
}

// encodeAll encodes findings on every core, the stored form of fs[i] at
// out[i]. A write transaction calls it before it begins, so that
// compression is not done under the write lock.
func encodeAll(c *findingrec.Codec, fs []*guardpost.Finding) ([]stored, error) {
	out := make([]stored, len(fs))
	err := parallel(len(fs), func(i int) error {
		if fs[i] == nil {
			return nil
		}
		var err error
		out[i], err = encodeFinding(c, fs[i])
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parallel calls f(0..n-1) on every core and returns the first error.
func parallel(n int, f func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			if err := f(i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		next     = make(chan int)
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return firstErr
}

// goSteps are the Go parts of migrations, by the name their "-- @go" line
// gives.
var goSteps = map[string]func(context.Context, *sql.Tx) error{
	"convertFindings": convertFindings,
}

// convertFindings (migration 0009) copies every finding of the schema
// before it into findings_v9: the document is parsed as the code of that
// schema did, and stored compressed with its record. It also writes the
// registry the records use.
func convertFindings(ctx context.Context, tx *sql.Tx) error {
	c, err := findingrec.Default()
	if err != nil {
		return err
	}
	if err := insertRegistry(ctx, tx, findingrec.Registry()); err != nil {
		return err
	}
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM findings`).Scan(&total); err != nil {
		return err
	}
	if total > 0 {
		logger(ctx).Info("converting stored findings to compressed records (one time)", "findings", total)
	}
	insert, err := tx.PrepareContext(ctx, `INSERT INTO findings_v9 (account_id, region, detector_id, id, type,
		aggregation_key, feedback_comments, record, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insert.Close()
	// In batches: parse and compress a batch on every core, insert it.
	const batch = 2048
	after := struct{ account, region, detector, id string }{}
	for {
		rows, err := tx.QueryContext(ctx, `SELECT account_id, region, detector_id, id, aggregation_key, feedback_comments, document
			FROM findings WHERE (account_id, region, detector_id, id) > (?, ?, ?, ?)
			ORDER BY account_id, region, detector_id, id LIMIT ?`, after.account, after.region, after.detector, after.id, batch)
		if err != nil {
			return err
		}
		var fs []*guardpost.Finding
		var docs [][]byte
		for rows.Next() {
			var f guardpost.Finding
			var agg sql.NullString
			var doc []byte
			if err := rows.Scan(&f.AccountID, &f.Region, &f.DetectorID, &f.ID, &agg, &f.FeedbackComments, &doc); err != nil {
				rows.Close()
				return err
			}
			f.AggregationKey = agg.String
			fs, docs = append(fs, &f), append(docs, doc)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(fs) == 0 {
			return nil
		}
		enc := make([]stored, len(fs))
		err = parallel(len(fs), func(i int) error {
			parsed, err := guardpost.ParseFinding(docs[i])
			if err != nil {
				return fmt.Errorf("finding %s: %w", fs[i].ID, err)
			}
			// The row's key wins over the document's.
			parsed.AccountID, parsed.Region, parsed.DetectorID, parsed.ID = fs[i].AccountID, fs[i].Region, fs[i].DetectorID, fs[i].ID
			parsed.AggregationKey, parsed.FeedbackComments = fs[i].AggregationKey, fs[i].FeedbackComments
			fs[i] = parsed
			enc[i], err = encodeFinding(c, parsed)
			return err
		})
		if err != nil {
			return err
		}
		for i, f := range fs {
			if _, err := insert.ExecContext(ctx, findingArgs(f, enc[i])...); err != nil {
				return err
			}
		}
		last := fs[len(fs)-1]
		after.account, after.region, after.detector, after.id = last.AccountID, last.Region, last.DetectorID, last.ID
	}
}

// insertRegistry records what the numbers of the records mean.
func insertRegistry(ctx context.Context, tx *sql.Tx, es []findingrec.Entry) error {
	for _, e := range es {
		if _, err := tx.ExecContext(ctx, `INSERT INTO attribute_ids (id, space, kind, name, path) VALUES (?, ?, ?, ?, ?)`,
			e.ID, e.Space, findingrec.KindName(e.Kind), e.Name, e.Path); err != nil {
			return err
		}
	}
	return nil
}

// checkRegistry compares the database's attribute registry with the
// code's (findingrec.Compare) and refuses a database that disagrees. When
// the code knows attributes the database does not (a newer guardpost on an
// older database), every record is rewritten from its document, so that
// the new attributes' values are there, and the registry is brought up to
// date, in one transaction.
func (db *DB) checkRegistry(ctx context.Context) error {
	rows, err := db.write.QueryContext(ctx, `SELECT id, space, kind, name, path FROM attribute_ids ORDER BY id`)
	if err != nil {
		return err
	}
	var have []findingrec.Entry
	for rows.Next() {
		var id uint32
		var space, kind, name, path string
		if err := rows.Scan(&id, &space, &kind, &name, &path); err != nil {
			rows.Close()
			return err
		}
		e, err := findingrec.NewEntry(id, space, kind, name, path)
		if err != nil {
			rows.Close()
			return fmt.Errorf("refusing a database that disagrees with this guardpost: attribute_ids row %d: %w", id, err)
		}
		have = append(have, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	missing, err := findingrec.Compare(have)
	if err != nil {
		return fmt.Errorf("refusing a database that disagrees with this guardpost: %w", err)
	}
	if len(missing) == 0 {
		return nil
	}
	return db.reindexRecords(ctx, missing)
}

// reindexRecords rewrites every finding's record from its document and
// adds the missing registry entries.
func (db *DB) reindexRecords(ctx context.Context, missing []findingrec.Entry) error {
	c, err := findingrec.Default()
	if err != nil {
		return err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	db.log.Info("this guardpost indexes attributes the database's records lack; rewriting the records (one time)", "attributes", len(missing))
	type row struct {
		rowid    int64
		doc, rec []byte
	}
	var after int64
	for {
		rows, err := tx.QueryContext(ctx, `SELECT rowid, document FROM findings WHERE rowid > ? ORDER BY rowid LIMIT 2048`, after)
		if err != nil {
			return err
		}
		var batch []*row
		for rows.Next() {
			r := &row{}
			if err := rows.Scan(&r.rowid, &r.doc); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		err = parallel(len(batch), func(i int) error {
			doc, err := findingrec.Decompress(nil, batch[i].doc)
			if err != nil {
				return err
			}
			f, err := guardpost.ParseFinding(doc)
			if err != nil {
				return err
			}
			rec, err := c.Append(nil, f)
			if err != nil {
				return err
			}
			batch[i].rec, err = compressRecord(c, rec, nil)
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range batch {
			if _, err := tx.ExecContext(ctx, `UPDATE findings SET record = ? WHERE rowid = ?`, r.rec, r.rowid); err != nil {
				return err
			}
		}
		after = batch[len(batch)-1].rowid
	}
	if err := insertRegistry(ctx, tx, missing); err != nil {
		return err
	}
	return tx.Commit()
}
