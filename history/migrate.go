package history

import "fmt"

// MigrateBatch is how many records Migrate adds per transaction.
const MigrateBatch = 500

// MigrateStats counts what Migrate did.
type MigrateStats struct {
	// Read is how many readable records the source held; Added how many
	// of them the destination did not have yet, Present how many it had.
	Read, Added, Present int
}

// Migrate copies every readable record of from (a history file) into to,
// MigrateBatch records per transaction, and returns the records of from it
// could not read (as Read does; they are not copied). Records keep their
// keys and results byte for byte, except that a record from before names
// were stored is given its path's base name (see Key.Name). It is
// idempotent: records are identified by their contents, so running it
// again, or after an interruption, adds only what is missing.
func Migrate(from Store, to *PGStore) (MigrateStats, []*RecordError, error) {
	read := from.Read
	if f, ok := from.(*FileStore); ok {
		read = f.readRaw
	}
	recs, bad, err := read()
	if err != nil {
		return MigrateStats{}, bad, err
	}
	st := MigrateStats{Read: len(recs)}
	if err := to.Init(); err != nil {
		return st, bad, err
	}
	for i := 0; i < len(recs); i += MigrateBatch {
		batch := recs[i:min(i+MigrateBatch, len(recs))]
		n, err := to.Import(batch)
		if err != nil {
			return st, bad, fmt.Errorf("migrating %s into %s after %d of %d records: %w", from.Location(), to.Location(), i, len(recs), err)
		}
		st.Added += n
		st.Present += len(batch) - n
	}
	return st, bad, nil
}
