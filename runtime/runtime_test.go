package runtime

import (
	"os"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestLoadTimeoutGrowsWithTheModel: the load time-out is the run time-out
// for a small model and grows by a second per LoadBytesPerSecond.
func TestLoadTimeoutGrowsWithTheModel(t *testing.T) {
	assert.Equal(t, time.Minute, LoadTimeout(time.Minute, 100<<10))
	assert.Equal(t, time.Minute+66*time.Second, LoadTimeout(time.Minute, 531<<20), "531 MB VGG11-BN")
	assert.Equal(t, 5*time.Second+time.Second, LoadTimeout(5*time.Second, LoadBytesPerSecond))
}

// TestProcessPeakRSS: this process's peak is read, and grows with what it
// touched; a process that does not exist is 0, not an error.
func TestProcessPeakRSS(t *testing.T) {
	if goruntime.GOOS != "linux" {
		t.Skip("VmHWM is read from /proc on Linux only")
	}
	before := ProcessPeakRSS(0)
	assert.Positive(t, before)
	b := make([]byte, 64<<20)
	for i := range b {
		b[i] = byte(i)
	}
	assert.GreaterOrEqual(t, ProcessPeakRSS(os.Getpid()), before+32<<20, "64 MiB touched")
	assert.Zero(t, ProcessPeakRSS(1<<30))
	_ = b[len(b)-1]
}
