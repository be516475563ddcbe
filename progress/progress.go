// Package progress reports the progress of long work — the samples of a
// validation on the reference and on the device — as a bar with an ETA
// on a terminal, as plain periodic lines in a log (CI), or not at all.
// Work shorter than Delay shows nothing.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Meter follows one stage of work at a time. Add may be called from
// several goroutines.
type Meter interface {
	// Start begins a stage of total units ("device", 2000 samples).
	Start(stage string, total int)
	// Add counts n more units done.
	Add(n int)
	// Finish ends the stage.
	Finish()
}

// Mode says how a Meter shows progress.
type Mode int

// The modes.
const (
	// Auto is Bar when the writer is a terminal, else Lines.
	Auto Mode = iota
	// Bar redraws one line: stage, bar, count, rate and ETA.
	Bar
	// Lines prints a line every Interval: stage, count, percentage,
	// elapsed time and ETA.
	Lines
	// Off shows nothing.
	Off
)

// Delay is how long a stage runs before its progress shows: shorter work
// needs none. (A variable so that tests can show progress of short work.)
var Delay = 2 * time.Second

// Interval is how often Lines prints (a variable for the same reason).
var Interval = 5 * time.Second

// New returns a Meter writing to w in mode; Auto picks Bar when w is a
// terminal.
func New(w io.Writer, mode Mode) Meter {
	if mode == Auto {
		mode = Lines
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = Bar
		}
	}
	switch mode {
	case Bar:
		return &meter{w: w, bar: true, delay: Delay, now: time.Now}
	case Lines:
		return &meter{w: w, delay: Delay, interval: Interval, now: time.Now}
	}
	return None
}

// None is a Meter that shows nothing.
var None Meter = none{}

type none struct{}

func (none) Start(string, int) {}
func (none) Add(int)           {}
func (none) Finish()           {}

// meter is the Bar and Lines Meter.
type meter struct {
	w        io.Writer
	bar      bool
	delay    time.Duration
	interval time.Duration
	now      func() time.Time

	mu          sync.Mutex
	stage       string
	total, done int
	start, last time.Time
	pb          *progressbar.ProgressBar
}

func (m *meter) Start(stage string, total int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.finishLocked()
	m.stage, m.total, m.done = stage, total, 0
	m.start = m.now()
	m.last = m.start
}

func (m *meter) Add(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.total == 0 {
		return
	}
	m.done += n
	now := m.now()
	if now.Sub(m.start) < m.delay {
		return
	}
	if m.bar {
		if m.pb == nil {
			m.pb = progressbar.NewOptions(m.total, progressbar.OptionSetWriter(m.w), progressbar.OptionSetDescription(m.stage),
				progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		}
		_ = m.pb.Set(m.done)
		return
	}
	if now.Sub(m.last) >= m.interval || m.done == m.total && m.last != m.start {
		m.last = now
		m.line(now)
	}
}

// line prints where the stage stands.
func (m *meter) line(now time.Time) {
	el := now.Sub(m.start)
	s := fmt.Sprintf("validate: %s: %d/%d (%d%%), %s elapsed", m.stage, m.done, m.total, 100*m.done/m.total, el.Round(time.Second))
	if m.done > 0 && m.done < m.total {
		eta := time.Duration(float64(el) / float64(m.done) * float64(m.total-m.done))
		s += fmt.Sprintf(", about %s left", eta.Round(time.Second))
	}
	fmt.Fprintln(m.w, s)
}

func (m *meter) Finish() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.finishLocked()
}

func (m *meter) finishLocked() {
	if m.pb != nil {
		_ = m.pb.Finish()
		m.pb = nil
	}
	m.total = 0
}
