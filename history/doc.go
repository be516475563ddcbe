// Package history stores validation results (compare.Result) so that nightly
// runs can be compared with earlier ones: `validate --history FILE MODEL`
// and `validate suite` append to it, `validate history` lists it and
// `validate history regressions` compares the latest result of every
// (model, precision, device) with a baseline (see FindRegressions).
//
// A Store is a JSON-lines file (FileStore, one machine) or a PostgreSQL
// table (PGStore, a fleet of runners); Open picks one from a path or a
// postgres:// URL, and Migrate moves a file's records into a database.
//
// # Series
//
// Results are grouped by Key.Series: the model's logical name (a suite
// entry's name, else the file's base name), the model file's sha256, the
// precision and the device — never the model's path, so checkouts in
// different folders and different runners share a series. The .tflite's
// sha256 is stored too, and a change of it is a note of the regression
// report.
//
// # Format
//
// A history file is an append-only JSON-lines file, by default
// $XDG_DATA_HOME/edgeval/history.jsonl (see DefaultPath). Each line is one
// record:
//
//	{"v":1,"crc32c":"1a2b3c4d","key":{"name":"net","model":"/abs/m.h5","model_sha256":"…","tflite_sha256":"…",
//	 "precision":"float32","device":"host","runtime":"litert-wasm","runtime_version":"2.5.3","time":"2026-…Z"},"result":{…}}
//
// where key is a Key, result the compare.Result exactly as
// `validate --json` writes it, and crc32c the Castagnoli CRC-32 of the key's
// bytes, a newline and the result's bytes, as they appear in the line.
// Records are in recording order.
//
// # Why a JSON-lines file and not an embedded B-tree (bbolt)
//
//   - Crash safety is structural. Earlier records are never rewritten: an
//     append is one write(2) of whole lines followed by fsync, so a crash
//     or a full disk can only leave a torn last line (and a failed write is
//     truncated away when possible). The next append starts a new line, and
//     a reader reports the torn line as a *RecordError and keeps every other
//     record. A B-tree file whose meta pages or a branch page are damaged is
//     unreadable as a whole.
//   - Damage stays local and is named: every record carries its own
//     checksum, so a flipped byte costs that record only, reported with its
//     line and byte offset.
//   - Several processes (CI runners on one machine) append safely: writers
//     take an exclusive flock(2) (LockFileEx on Windows) on the file for the
//     duration of one append, readers a shared one. bbolt holds its lock for
//     as long as the database is open, serialising whole runs.
//   - It is plain text: jq, grep and `cat a.jsonl b.jsonl` (merging the
//     histories of two runners) work on it, it needs no dependency and no
//     cgo, and it survives schema growth (new Result fields are just new
//     JSON keys).
//
// The cost is that reading is a linear scan: about 850 bytes per result
// with one output, so a year of a nightly suite of 30 (model, precision,
// device) runs is ~9 MB, read in 0.25–0.4 s on the reference machine
// (BenchmarkRead); an append with its fsync takes 0.2–0.3 ms (BenchmarkAppend).
// A fleet of runners on different machines shares results through a
// PostgreSQL database instead (PGStore): the same records, one transaction
// per append.
package history
