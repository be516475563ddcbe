package runtime

import (
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
