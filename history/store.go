package history

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/edgeval/edgeval/compare"
)

// Store is where results are kept: a JSON-lines file (FileStore) or a
// PostgreSQL database shared by many runners (PGStore). Both are
// append-only, never lose or tear a record whose append returned, and take
// concurrent writers; a record is read back exactly as it was appended.
// Neither holds a connection or an open file between calls, so a store
// lives as long as a suite does.
type Store interface {
	// Location names the store in messages: the file's path, or the
	// database URL without its password.
	Location() string
	// Init creates the store when missing, so that a long run learns at
	// its start, not at its end, that it cannot record.
	Init() error
	// Append records results stamped with the current time, under the
	// model file's base name (see NewRecord), in one atomic append.
	Append(results ...*compare.Result) error
	// AppendRecords appends records with their keys as given, all or
	// none.
	AppendRecords(recs ...Record) error
	// Read returns every readable record in recording order, and one
	// *RecordError per record that could not be read. A store that was
	// never written is an error satisfying errors.Is(err, fs.ErrNotExist).
	Read() (recs []Record, bad []*RecordError, err error)
	// Query is Read, then the records that pass f ordered by recording
	// time.
	Query(f Filter) (recs []Record, bad []*RecordError, err error)
}

// Open returns the store at location: a PostgreSQL URL
// (postgres://… or postgresql://…, see OpenPG), else a file path (see
// OpenFile). "" is DefaultPath, so $EDGEVAL_HISTORY may hold a URL too.
func Open(location string) (Store, error) {
	if location == "" {
		p, err := DefaultPath()
		if err != nil {
			return nil, err
		}
		location = p
	}
	if IsURL(location) {
		return OpenPG(location)
	}
	if strings.Contains(location, "://") {
		return nil, fmt.Errorf("history %q: not a file and not a postgres:// URL", location)
	}
	return OpenFile(location)
}

// IsURL reports whether location names a PostgreSQL database rather than
// a file.
func IsURL(location string) bool {
	return strings.HasPrefix(location, "postgres://") || strings.HasPrefix(location, "postgresql://")
}

// newRecords stamps results with the current time, named after their
// model files.
func newRecords(results []*compare.Result) []Record {
	now := time.Now()
	recs := make([]Record, len(results))
	for i, r := range results {
		recs[i] = NewRecord(r, "", now)
	}
	return recs
}

// query is Store.Query on top of s.Read: the same filtering and order for
// every store.
func query(s Store, f Filter) (recs []Record, bad []*RecordError, err error) {
	recs, bad, err = s.Read()
	if err != nil {
		return nil, bad, err
	}
	recs = f.Apply(recs)
	slices.SortStableFunc(recs, func(x, y Record) int { return x.Key.Time.Compare(y.Key.Time) })
	return recs, bad, nil
}
