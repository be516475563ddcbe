//go:build cgo

package validation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/validation"
)

// memChildEnv names the inputs file TestRunMemoryChild validates; the
// child runs only when it is set.
const memChildEnv = "EDGEVAL_MEM_CHILD_INPUTS"

// memUse is what a child validation measured of its own memory.
type memUse struct {
	Samples int
	// VmHWM is the process's peak resident set (kB, /proc/self/status).
	VmHWM int64
	// PeakHeap is the largest HeapInuse sampled every millisecond.
	PeakHeap uint64
	// LiveHeap is the largest live heap (HeapAlloc right after a forced
	// collection) at each progress step of the run.
	LiveHeap uint64
	Verdict  string
}

// liveAtSteps is a progress writer that measures the live heap at each
// step.
type liveAtSteps struct {
	mu  sync.Mutex
	max uint64
}

func (l *liveAtSteps) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	goruntime.GC()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	l.max = max(l.max, ms.HeapAlloc)
	return len(b), nil
}

// TestRunMemoryChild is the child of TestRunMemoryFlat: it validates the
// Dense model on the inputs file named by memChildEnv and prints its
// memory use as JSON.
func TestRunMemoryChild(t *testing.T) {
	inputs := os.Getenv(memChildEnv)
	if inputs == "" {
		t.Skip("run by TestRunMemoryFlat")
	}
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var ms goruntime.MemStats
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				goruntime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	live := &liveAtSteps{}
	res, err := validation.Run(context.Background(), validation.Options{
		Model:    "../testdata/corpus/keras/dense_relu/model.keras",
		Inputs:   inputs,
		Open:     validation.Local("litert", runtime.Options{}),
		Device:   "host",
		OutDir:   t.TempDir(),
		Progress: live,
	})
	close(done)
	require.NoError(t, err)
	hwm := testutil.PeakRSS(t) >> 10
	b, err := json.Marshal(memUse{Samples: res.Samples, VmHWM: hwm, PeakHeap: peak.Load(), LiveHeap: live.max, Verdict: string(res.Verdict)})
	require.NoError(t, err)
	fmt.Printf("MEMUSE %s\n", b)
}

// measure validates an inputs file of n [10]-float samples in a child
// process and returns what it measured.
func measure(t *testing.T, dir string, n int) memUse {
	t.Helper()
	x := tensor.New(tensor.Float32, []int{n, 10})
	v := x.Float32s()
	for i := range v {
		v[i] = float32(i%97)/48 - 1
	}
	path := filepath.Join(dir, fmt.Sprintf("inputs_%d.npz", n))
	require.NoError(t, tensor.WriteNPZ(path, []tensor.Named{{Name: "in_0", Tensor: x}}))
	cmd := exec.Command(os.Args[0], "-test.run", "^TestRunMemoryChild$", "-test.v")
	cmd.Env = append(os.Environ(), memChildEnv+"="+path)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for line := range strings.Lines(string(out)) {
		if js, ok := strings.CutPrefix(line, "MEMUSE "); ok {
			var m memUse
			require.NoError(t, json.Unmarshal([]byte(js), &m))
			return m
		}
	}
	t.Fatalf("the child printed no MEMUSE line:\n%s", out)
	return memUse{}
}

// outputSetBytes measures what holding one set of the Dense model's
// outputs ([1 5] float32) costs per sample, as the pipeline holds them.
func outputSetBytes() float64 {
	const n = 20000
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	s := make(golden.Samples, n)
	for i := range s {
		s[i] = []*tensor.Tensor{tensor.New(tensor.Float32, []int{1, 5})}
	}
	goruntime.GC()
	goruntime.ReadMemStats(&after)
	goruntime.KeepAlive(s)
	return float64(after.HeapAlloc-before.HeapAlloc) / n
}

// TestRunMemoryFlat: a validation holds the outputs of every sample but
// not the inputs, so ten times the samples grows memory by the outputs
// alone. Each size runs in a child process, for its own peak resident set.
func TestRunMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("validates 88,000 samples")
	}
	dir := t.TempDir()
	small, large := measure(t, dir, 8000), measure(t, dir, 80000)
	set := outputSetBytes()
	more := float64(large.Samples - small.Samples)
	t.Logf("one set of outputs: %.0f B/sample", set)
	for _, m := range []memUse{small, large} {
		t.Logf("%6d samples: VmHWM %6d kB, peak HeapInuse %6d kB, largest live heap at a step %6d kB", m.Samples, m.VmHWM, m.PeakHeap>>10, m.LiveHeap>>10)
	}
	t.Logf("per extra sample: VmHWM %.0f B, peak HeapInuse %.0f B, live heap %.0f B",
		float64(large.VmHWM-small.VmHWM)*1024/more, (float64(large.PeakHeap)-float64(small.PeakHeap))/more, (float64(large.LiveHeap)-float64(small.LiveHeap))/more)
	require.Equal(t, 8000, small.Samples)
	require.Equal(t, 80000, large.Samples)
	assert.Equal(t, "pass", large.Verdict)

	// At each step, what is live beyond the 8,000-sample run is one set of
	// outputs per extra sample (the reference's, before the device runs):
	// holding the inputs as read and as fed to the device would add two
	// more sets' worth (a [1 10] input each).
	assert.Less(t, float64(large.LiveHeap)-float64(small.LiveHeap), 1.3*set*more, "live heap grows by one set of outputs per sample")
	// The peak resident set grows by at most the outputs the run holds at
	// its peak (the reference's and the device's, and a gathered copy of
	// each to compare), twice over for the collector's headroom (GOGC=100).
	assert.Less(t, float64(large.VmHWM-small.VmHWM)*1024, 2*4*set*more, "peak RSS grows by the outputs")
}
