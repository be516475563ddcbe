package history

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/edgeval/edgeval/compare"
)

// PGTable is the table a PGStore keeps its records in.
const PGTable = "edgeval_history"

// pgSchema creates PGTable. A record is one row: key and result exactly as
// a history file's line holds them (text, not jsonb, so they read back
// byte for byte and their CRC-32C still checks), with the columns a query
// needs beside them. digest, the sha256 of key, a newline and result, is
// the record's identity: inserting a record that is already there does
// nothing, so a retried append and a repeated migration add nothing twice.
var pgSchema = []string{
	`CREATE TABLE IF NOT EXISTS ` + PGTable + ` (
	id            bigserial PRIMARY KEY,
	digest        bytea NOT NULL UNIQUE,
	v             integer NOT NULL,
	crc32c        text NOT NULL,
	recorded_at   timestamptz NOT NULL,
	name          text NOT NULL,
	model_sha256  text NOT NULL,
	tflite_sha256 text NOT NULL,
	precision     text NOT NULL,
	device        text NOT NULL,
	key           text NOT NULL,
	result        text NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS ` + PGTable + `_series ON ` + PGTable + ` (name, precision, device, recorded_at)`,
}

// pgSchemaLock is the advisory lock key that serialises schema creation
// between writers starting together ("edgeval" in ASCII).
const pgSchemaLock = 0x65646765_76616c

// PGStore is a history in a PostgreSQL table (PGTable), shared by any
// number of runners on any number of machines. An append is one
// transaction: a writer killed in the middle leaves nothing, one whose
// append returned has its records committed. It holds no connection
// between calls (each call connects, bounded by Timeout), so a suite that
// runs for hours does not depend on one idle connection surviving.
type PGStore struct {
	url     string
	display string
	// Timeout bounds each call, connection and retries included. It does
	// not follow the run's context: an interrupted run is still recorded.
	Timeout time.Duration

	mu     sync.Mutex
	schema bool
}

// OpenPG returns the store in the database at a postgres:// URL (the pgx
// and libpq forms: postgres://user@host:port/db?sslmode=…; a password is
// better kept in PGPASSWORD or ~/.pgpass than in the URL). It checks the
// URL but does not connect: Init or the first Append creates the table.
func OpenPG(rawURL string) (*PGStore, error) {
	display := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		display = u.Redacted()
	} else {
		display = "postgres://…"
	}
	if _, err := pgx.ParseConfig(rawURL); err != nil {
		return nil, fmt.Errorf("history %s: %w", display, err)
	}
	return &PGStore{url: rawURL, display: display, Timeout: time.Minute}, nil
}

// Location returns the URL without its password.
func (s *PGStore) Location() string { return s.display }

// Init creates the table when missing and checks that the database
// answers.
func (s *PGStore) Init() error {
	return s.with(func(ctx context.Context, c *pgx.Conn) error { return s.ensureSchema(ctx, c) })
}

// Append records results, stamped with the current time and named after
// their model files, in one transaction.
func (s *PGStore) Append(results ...*compare.Result) error {
	return s.AppendRecords(newRecords(results)...)
}

// AppendRecords appends records with their keys as given, in one
// transaction.
func (s *PGStore) AppendRecords(recs ...Record) error {
	_, err := s.Import(recs)
	return err
}

// Import appends the records that are not there yet (by content: see
// pgSchema) in one transaction, and returns how many it added. A failed
// connection is retried until Timeout: as records are identified by their
// content, a retry after a commit whose answer was lost adds nothing.
func (s *PGStore) Import(recs []Record) (added int, err error) {
	if len(recs) == 0 {
		return 0, nil
	}
	rows := make([]pgRow, len(recs))
	for i, r := range recs {
		if rows[i], err = newPGRow(r); err != nil {
			return 0, err
		}
	}
	err = s.with(func(ctx context.Context, c *pgx.Conn) error {
		if err := s.ensureSchema(ctx, c); err != nil {
			return err
		}
		added = 0
		return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			for _, r := range rows {
				b.Queue(`INSERT INTO `+PGTable+` (digest, v, crc32c, recorded_at, name, model_sha256, tflite_sha256, precision, device, key, result)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (digest) DO NOTHING`,
					r.digest[:], RecordVersion, r.crc, r.key.Time, r.key.Name, r.key.ModelSHA256, r.key.TFLiteSHA256,
					string(r.key.Precision), r.key.Device, string(r.keyJSON), string(r.resultJSON)).Exec(func(ct pgconn.CommandTag) error {
					added += int(ct.RowsAffected())
					return nil
				})
			}
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			if beforeCommit != nil {
				beforeCommit()
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("history %s: appending %d record(s): %w", s.display, len(recs), err)
	}
	return added, nil
}

// beforeCommit, when set (by tests), runs inside an append's transaction
// just before it commits.
var beforeCommit func()

// pgRow is a record as a row.
type pgRow struct {
	key                 Key
	keyJSON, resultJSON []byte
	crc                 string
	digest              [sha256.Size]byte
}

func newPGRow(r Record) (pgRow, error) {
	key, res, err := recordBytes(r)
	if err != nil {
		return pgRow{}, err
	}
	k := r.Key
	k.normalize()
	h := sha256.New()
	h.Write(key)
	h.Write([]byte{'\n'})
	h.Write(res)
	row := pgRow{key: k, keyJSON: key, resultJSON: res, crc: checksum(key, res)}
	h.Sum(row.digest[:0])
	return row, nil
}

// Read returns every readable record in the order they were added (by
// row id), and one *RecordError (Line: the row id) per row whose checksum
// or contents do not check. A database without the table is an error
// satisfying errors.Is(err, fs.ErrNotExist).
func (s *PGStore) Read() (recs []Record, bad []*RecordError, err error) {
	err = s.with(func(ctx context.Context, c *pgx.Conn) error {
		recs, bad = nil, nil
		var table *string
		if err := c.QueryRow(ctx, `SELECT to_regclass($1)::text`, PGTable).Scan(&table); err != nil {
			return err
		}
		if table == nil {
			return fmt.Errorf("no table %s: %w", PGTable, fs.ErrNotExist)
		}
		rows, err := c.Query(ctx, `SELECT id, v, crc32c, key, result FROM `+PGTable+` ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			id          int64
			v           int
			crc         string
			key, result []byte
		)
		_, err = pgx.ForEachRow(rows, []any{&id, &v, &crc, &key, &result}, func() error {
			r, why := checkRecord(v, crc, key, result, false)
			if why != "" {
				bad = append(bad, &RecordError{Path: s.display, Line: int(id), Offset: -1, Reason: why})
				return nil
			}
			recs = append(recs, r)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("history %s: %w", s.display, err)
	}
	return recs, bad, nil
}

// Query reads the records that pass f (see Read), ordered by recording
// time, exactly as FileStore.Query does.
func (s *PGStore) Query(f Filter) (recs []Record, bad []*RecordError, err error) {
	return query(s, f)
}

// ensureSchema creates the table once per store (under an advisory lock,
// so that writers starting together do not race), unless it exists: a
// database user allowed to insert but not to create tables can use a table
// an administrator made.
func (s *PGStore) ensureSchema(ctx context.Context, c *pgx.Conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.schema {
		return nil
	}
	var table *string
	if err := c.QueryRow(ctx, `SELECT to_regclass($1)::text`, PGTable).Scan(&table); err != nil {
		return err
	}
	if table == nil {
		err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pgSchemaLock)); err != nil {
				return err
			}
			for _, q := range pgSchema {
				if _, err := tx.Exec(ctx, q); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("creating table %s: %w", PGTable, err)
		}
	}
	s.schema = true
	return nil
}

// with connects, runs f, and disconnects, retrying a connection that
// could not be made or broke (not an error the server answered with)
// until Timeout.
func (s *PGStore) with(f func(ctx context.Context, c *pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := s.once(ctx, f)
		var pgErr *pgconn.PgError
		if err == nil || errors.As(err, &pgErr) || errors.Is(err, fs.ErrNotExist) || attempt == 4 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func (s *PGStore) once(ctx context.Context, f func(ctx context.Context, c *pgx.Conn) error) error {
	c, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	return f(ctx, c)
}
