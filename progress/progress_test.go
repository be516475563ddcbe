package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// clock is a fake time source the test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLinesEveryIntervalAfterTheDelay(t *testing.T) {
	var b bytes.Buffer
	c := &clock{t: time.Unix(0, 0)}
	m := &meter{w: &b, delay: Delay, interval: Interval, now: c.now}
	m.Start("device", 100)
	for i := range 100 {
		c.t = c.t.Add(200 * time.Millisecond) // 20 s in all
		m.Add(1)
		if i == 5 {
			assert.Empty(t, b.String(), "nothing within the first %v", Delay)
		}
	}
	m.Finish()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	assert.Len(t, lines, 4, "every 5 s of 20 s: %q", lines)
	assert.Equal(t, "validate: device: 25/100 (25%), 5s elapsed, about 15s left", lines[0])
	assert.Equal(t, "validate: device: 100/100 (100%), 20s elapsed", lines[3])
}

func TestShortWorkShowsNothing(t *testing.T) {
	for _, bar := range []bool{false, true} {
		var b bytes.Buffer
		c := &clock{t: time.Unix(0, 0)}
		m := &meter{w: &b, bar: bar, delay: Delay, interval: Interval, now: c.now}
		m.Start("reference", 10)
		for range 10 {
			c.t = c.t.Add(100 * time.Millisecond)
			m.Add(1)
		}
		m.Finish()
		assert.Empty(t, b.String(), "bar %v", bar)
	}
}

func TestBarDrawsCountAndETA(t *testing.T) {
	var b bytes.Buffer
	c := &clock{t: time.Now().Add(-10 * time.Second)}
	m := &meter{w: &b, bar: true, delay: Delay, interval: Interval, now: c.now}
	m.Start("device", 50)
	c.t = time.Now()
	m.Add(20)
	out := b.String()
	assert.Contains(t, out, "device")
	assert.Contains(t, out, "(20/50")
	assert.Contains(t, out, "%")
	m.Finish()
}

func TestNewModes(t *testing.T) {
	var b bytes.Buffer
	assert.Equal(t, None, New(&b, Off))
	assert.False(t, New(&b, Auto).(*meter).bar, "a buffer is not a terminal: lines")
	assert.True(t, New(&b, Bar).(*meter).bar)
}
