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
	if r.Result == nil {
		return nil, fmt.Errorf("history: a record needs a result")
	}
	key, err := json.Marshal(r.Key)
	if err != nil {
		return nil, fmt.Errorf("history: encoding key: %w", err)
	}
	res, err := json.Marshal(r.Result)
	if err != nil {
		return nil, fmt.Errorf("history: encoding result of %s: %w", r.Result.Model, err)
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

// decodeRecord reads one record line (without its newline). The returned
// string explains a failure in words for a *RecordError.
func decodeRecord(b []byte) (Record, string) {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return Record{}, fmt.Sprintf("not a valid record: %v", err)
	}
	switch {
	case l.V == 0:
		return Record{}, "not a history record (no \"v\" field)"
	case l.V > RecordVersion:
		return Record{}, fmt.Sprintf("record version %d is newer than this tool reads (%d): update validate", l.V, RecordVersion)
	case len(l.Key) == 0 || len(l.Result) == 0:
		return Record{}, "record without key or result"
	}
	if got := checksum(l.Key, l.Result); got != l.CRC {
		return Record{}, fmt.Sprintf("checksum mismatch (stored %q, computed %q): the record was altered or damaged", l.CRC, got)
	}
	var r Record
	if err := json.Unmarshal(l.Key, &r.Key); err != nil {
		return Record{}, fmt.Sprintf("bad key: %v", err)
	}
	r.Result = new(compare.Result)
	if err := json.Unmarshal(l.Result, r.Result); err != nil {
		return Record{}, fmt.Sprintf("bad result: %v", err)
	}
	if v := r.Result.SchemaVersion; v > compare.SchemaVersion {
		return Record{}, fmt.Sprintf("result schema_version %d is newer than this tool reads (%d): update validate", v, compare.SchemaVersion)
	}
	return r, ""
}

// RecordError is a record that could not be read. The other records of the
// history are still returned.
type RecordError struct {
	Path string
	// Line is the 1-based line number and Offset the byte offset of the
	// line's start.
	Line   int
	Offset int64
	// Truncated is true for a last line without its newline: a write that
	// was interrupted (crash, full disk).
	Truncated bool
	Reason    string
}

// Error names the file, line and byte offset, and why the record was skipped.
func (e *RecordError) Error() string {
	return fmt.Sprintf("%s:%d (byte %d): %s; record skipped", e.Path, e.Line, e.Offset, e.Reason)
}
