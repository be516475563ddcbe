package history

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/edgeval/edgeval/compare"
)

// EnvPath names the environment variable that overrides DefaultPath.
const EnvPath = "EDGEVAL_HISTORY"

// DefaultPath returns where the history lives when no --history is given:
// $EDGEVAL_HISTORY (a file or a postgres:// URL, see Open), else $XDG_DATA_HOME/edgeval/history.jsonl, else
// ~/.local/share/edgeval/history.jsonl.
func DefaultPath() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		return p, nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "edgeval", "history.jsonl"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("history: no $XDG_DATA_HOME and no home directory (%w): give --history FILE", err)
	}
	return filepath.Join(home, ".local", "share", "edgeval", "history.jsonl"), nil
}

// FileStore is a history in a JSON-lines file. It holds no open file
// between calls: every Append and Read opens, locks, and closes it, so any
// number of processes on one machine can share it.
type FileStore struct {
	path string
	// LockTimeout bounds the wait for another process's lock.
	LockTimeout time.Duration
}

// OpenFile returns the file store at path ("" for DefaultPath). The file
// is created by the first Append.
func OpenFile(path string) (*FileStore, error) {
	if path == "" {
		p, err := DefaultPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	return &FileStore{path: path, LockTimeout: time.Minute}, nil
}

// Path returns the file's path.
func (s *FileStore) Path() string { return s.path }

// Location returns the file's path.
func (s *FileStore) Location() string { return s.path }

// Init creates the history file and its directory when missing, so that a
// long run learns at its start, not at its end, that it cannot record.
func (s *FileStore) Init() error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("history %s: %w", s.path, err)
	}
	_, statErr := os.Stat(s.path)
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("history %s: %w", s.path, err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		syncDir(dir)
	}
	return nil
}

// Append records results, stamped with the current time and named after
// their model files, in one atomic append.
func (s *FileStore) Append(results ...*compare.Result) error {
	return s.AppendRecords(newRecords(results)...)
}

// inProcess serialises appends within this process (flock already
// excludes other file descriptions; this also covers platforms without it).
var inProcess sync.Mutex

// AppendRecords appends records with their keys as given, in one write of
// whole lines followed by fsync, under an exclusive lock. A failed write is
// truncated away; a crash can leave at most a torn last line, which the
// next append terminates so that it starts on a line of its own.
func (s *FileStore) AppendRecords(recs ...Record) error {
	if len(recs) == 0 {
		return nil
	}
	var data bytes.Buffer
	for _, r := range recs {
		b, err := encodeRecord(r)
		if err != nil {
			return err
		}
		data.Write(b)
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("history %s: %w", s.path, err)
	}
	inProcess.Lock()
	defer inProcess.Unlock()
	_, statErr := os.Stat(s.path)
	created := errors.Is(statErr, fs.ErrNotExist)
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	if err := s.lock(f, true); err != nil {
		return err
	}
	defer unlockFile(f)
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("history %s: %w", s.path, err)
	}
	size := st.Size()
	buf := data.Bytes()
	if size > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, size-1); err != nil {
			return fmt.Errorf("history %s: reading the last byte: %w", s.path, err)
		}
		if last[0] != '\n' {
			// A torn record from an interrupted write: end its line.
			buf = append([]byte{'\n'}, buf...)
		}
	}
	if _, err := f.Write(buf); err != nil {
		if terr := f.Truncate(size); terr != nil {
			return fmt.Errorf("history %s: appending: %w (and removing the partial record: %v)", s.path, err, terr)
		}
		return fmt.Errorf("history %s: appending: %w", s.path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("history %s: fsync: %w", s.path, err)
	}
	if created {
		syncDir(dir)
	}
	return nil
}

// syncDir makes a new file's directory entry durable (best effort: not
// every platform can fsync a directory).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// lock takes the file lock, polling until LockTimeout.
func (s *FileStore) lock(f *os.File, exclusive bool) error {
	deadline := time.Now().Add(s.LockTimeout)
	wait := time.Millisecond
	for {
		ok, err := tryLockFile(f, exclusive)
		if err != nil {
			return fmt.Errorf("history %s: locking: %w", s.path, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("history %s: still locked by another process after %v", s.path, s.LockTimeout)
		}
		time.Sleep(wait)
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// Read returns every readable record in recording order, and one
// *RecordError per record that could not be read (torn, damaged, from a
// newer tool). err is for the file as a whole; a missing file is an error
// satisfying errors.Is(err, fs.ErrNotExist).
func (s *FileStore) Read() (recs []Record, bad []*RecordError, err error) {
	return s.read(false)
}

// readRaw is Read with each record's bytes kept, for Migrate.
func (s *FileStore) readRaw() (recs []Record, bad []*RecordError, err error) {
	return s.read(true)
}

func (s *FileStore) read(keepRaw bool) (recs []Record, bad []*RecordError, err error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, nil, fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	if err := s.lock(f, false); err != nil {
		return nil, nil, err
	}
	defer unlockFile(f)
	br := bufio.NewReaderSize(f, 64<<10)
	var offset int64
	for lineNo := 1; ; lineNo++ {
		b, n, newline, tooLong, rerr := readLine(br, recordLimit)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return recs, bad, fmt.Errorf("history %s:%d: %w", s.path, lineNo, rerr)
		}
		if n == 0 {
			return recs, bad, nil
		}
		switch {
		case tooLong:
			bad = append(bad, &RecordError{Path: s.path, Line: lineNo, Offset: offset, Truncated: !newline,
				Reason: fmt.Sprintf("record longer than %d bytes", recordLimit)})
		case len(bytes.TrimSpace(b)) == 0:
			// An empty line: nothing lost.
		default:
			r, why := decodeRecord(b, keepRaw)
			switch {
			case why == "":
				recs = append(recs, r)
			case !newline:
				bad = append(bad, &RecordError{Path: s.path, Line: lineNo, Offset: offset, Truncated: true,
					Reason: "truncated record at the end of the file (an interrupted write)"})
			default:
				bad = append(bad, &RecordError{Path: s.path, Line: lineNo, Offset: offset, Reason: why})
			}
		}
		offset += n
		if !newline {
			return recs, bad, nil
		}
	}
}

// readLine reads one line of at most limit bytes (without its newline). n
// counts every byte consumed; a longer line is consumed but not kept
// (tooLong).
func readLine(br *bufio.Reader, limit int) (line []byte, n int64, newline, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		n += int64(len(chunk))
		if !tooLong {
			if len(line)+len(chunk) > limit+1 {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case err == nil:
			if !tooLong {
				line = line[:len(line)-1]
			}
			return line, n, true, tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return line, n, false, tooLong, err
		}
	}
}

// Query reads the records that pass f (see Read), ordered by recording time
// (a merged history may not be): what `validate history` lists and compares.
func (s *FileStore) Query(f Filter) (recs []Record, bad []*RecordError, err error) {
	return query(s, f)
}
