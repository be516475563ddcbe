package child

import (
	"strings"
	"sync"
)

// Stderr is an io.Writer for a child's stderr that keeps its first Max
// bytes (a Go crash banner comes first) and its last Max bytes after those
// (an error message comes last); what lies between is dropped. It is safe
// for concurrent use.
type Stderr struct {
	mu         sync.Mutex
	max        int
	head, tail []byte
	total      int
}

// NewStderr returns a Stderr keeping max bytes at each end.
func NewStderr(max int) *Stderr { return &Stderr{max: max} }

// Write keeps what p adds to either end; it never fails.
func (s *Stderr) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(p)
	s.total += n
	if k := min(s.max-len(s.head), len(p)); k > 0 {
		s.head = append(s.head, p[:k]...)
		p = p[k:]
	}
	if len(p) >= s.max {
		s.tail = append(s.tail[:0], p[len(p)-s.max:]...)
		return n, nil
	}
	s.tail = append(s.tail, p...)
	if len(s.tail) > s.max {
		s.tail = append(s.tail[:0], s.tail[len(s.tail)-s.max:]...)
	}
	return n, nil
}

// dropped reports whether bytes between the two ends were lost. Call with
// mu held.
func (s *Stderr) dropped() bool { return s.total > len(s.head)+len(s.tail) }

// Head returns the first Max bytes written.
func (s *Stderr) Head() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.head)
}

// Last returns the last Max bytes written (everything when it fitted).
func (s *Stderr) Last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropped() {
		return string(s.tail)
	}
	all := string(s.head) + string(s.tail)
	return all[max(0, len(all)-s.max):]
}

// String returns both ends, with "\n…\n" between them when bytes were
// dropped.
func (s *Stderr) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropped() {
		return string(s.head) + "\n…\n" + string(s.tail)
	}
	return string(s.head) + string(s.tail)
}

// LastLines returns at most n lines and max bytes from the end of s, marked
// "…" when cut inside a line.
func LastLines(s string, n, max int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return LastBytes(strings.Join(lines, "\n"), max)
}

// LastBytes returns at most max bytes from the end of s, marked "…" when
// cut.
func LastBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return "…" + strings.ToValidUTF8(s[len(s)-max:], "")
}
