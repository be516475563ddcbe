package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"

	"github.com/edgeval/edgeval/compare"
)

// RecordVersion is the version of the record line layout ("v").
const RecordVersion = 1

// MaxRecordBytes bounds one record line; a longer line is reported as a
// *RecordError and skipped without being held in memory.
const MaxRecordBytes = 16 << 20

// recordLimit is MaxRecordBytes; tests lower it.
var recordLimit = MaxRecordBytes

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// line is the JSON layout of one record.
type line struct {
	V      int             `json:"v"`
	CRC    string          `json:"crc32c"`
	Key    json.RawMessage `json:"key"`
	Result json.RawMessage `json:"result"`
}

func checksum(key, result []byte) string {
	c := crc32.Update(0, castagnoli, key)
	c = crc32.Update(c, castagnoli, []byte{'\n'})
	return fmt.Sprintf("%08x", crc32.Update(c, castagnoli, result))
}

// encodeRecord returns r as one record line, newline included.
func encodeRecord(r Record) ([]byte, error) {
	key, res, err := recordBytes(r)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(line{V: RecordVersion, CRC: checksum(key, res), Key: key, Result: res})
	if err != nil {
		return nil, fmt.Errorf("history: encoding record: %w", err)
	}
	if bytes.IndexByte(b, '\n') >= 0 {
		return nil, fmt.Errorf("history: encoded record holds a newline") // cannot happen: encoding/json escapes it
	}
	return append(b, '\n'), nil
}

// recordBytes returns the JSON of r's key and result: the bytes it was read
// as when it was read (so that a migration keeps fields this version does
// not know), else freshly encoded.
func recordBytes(r Record) (key, res []byte, err error) {
	if r.Result == nil {
		return nil, nil, fmt.Errorf("history: a record needs a result")
	}
	key, res = r.rawKey, r.rawResult
	if key == nil {
		if key, err = json.Marshal(r.Key); err != nil {
			return nil, nil, fmt.Errorf("history: encoding key of %s: %w", r.Result.Model, err)
		}
	}
	if res == nil {
		if res, err = json.Marshal(r.Result); err != nil {
			return nil, nil, fmt.Errorf("history: encoding result of %s: %w", r.Result.Model, err)
		}
	}
	return key, res, nil
}

// decodeRecord reads one record line (without its newline). The returned
// string explains a failure in words for a *RecordError.
func decodeRecord(b []byte, keepRaw bool) (Record, string) {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return Record{}, fmt.Sprintf("not a valid record: %v", err)
	}
	return checkRecord(l.V, l.CRC, l.Key, l.Result, keepRaw)
}

// checkRecord checks a record's version and checksum, then reads it (a
// line of a file, or a row of a database), keeping its bytes for a
// migration when keepRaw.
func checkRecord(v int, crc string, key, result []byte, keepRaw bool) (Record, string) {
	switch {
	case v == 0:
		return Record{}, "not a history record (no \"v\" field)"
	case v > RecordVersion:
		return Record{}, fmt.Sprintf("record version %d is newer than this tool reads (%d): update validate", v, RecordVersion)
	case len(key) == 0 || len(result) == 0:
		return Record{}, "record without key or result"
	}
	if got := checksum(key, result); got != crc {
		return Record{}, fmt.Sprintf("checksum mismatch (stored %q, computed %q): the record was altered or damaged", crc, got)
	}
	return decodeParts(key, result, keepRaw)
}

// decodeParts reads a record's checked key and result. A key without a
// name (a record from before names were stored) is given its path's base
// name, and is then written anew by a migration; otherwise, with keepRaw,
// both are kept as read.
func decodeParts(key, result []byte, keepRaw bool) (Record, string) {
	var r Record
	if err := json.Unmarshal(key, &r.Key); err != nil {
		return Record{}, fmt.Sprintf("bad key: %v", err)
	}
	r.Result = new(compare.Result)
	if err := json.Unmarshal(result, r.Result); err != nil {
		return Record{}, fmt.Sprintf("bad result: %v", err)
	}
	if v := r.Result.SchemaVersion; v > compare.SchemaVersion {
		return Record{}, fmt.Sprintf("result schema_version %d is newer than this tool reads (%d): update validate", v, compare.SchemaVersion)
	}
	if named := !r.Key.normalize(); keepRaw {
		if named {
			r.rawKey = bytes.Clone(key)
		}
		r.rawResult = bytes.Clone(result)
	}
	return r, ""
}

// RecordError is a record that could not be read. The other records of the
// history are still returned.
type RecordError struct {
	Path string
	// Line is the 1-based line number and Offset the byte offset of the
	// line's start; in a database, Line is the row's id and Offset -1.
	Line   int
	Offset int64
	// Truncated is true for a last line without its newline: a write that
	// was interrupted (crash, full disk).
	Truncated bool
	Reason    string
}

// Error names the file, line and byte offset (a database: the row), and
// why the record was skipped.
func (e *RecordError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("%s row %d: %s; record skipped", e.Path, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s:%d (byte %d): %s; record skipped", e.Path, e.Line, e.Offset, e.Reason)
}
