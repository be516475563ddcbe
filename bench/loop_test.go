package bench

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fake returns a Run that takes (i+1) ms for sample i and records calls.
type fake struct {
	calls []int
	kept  []int
	fail  int // fail on this call number (1-based; 0: never)
}

func (f *fake) run(_ context.Context, i int, keep bool) (time.Duration, error) {
	f.calls = append(f.calls, i)
	if keep {
		f.kept = append(f.kept, i)
	}
	if f.fail == len(f.calls) {
		return 0, errors.New("boom")
	}
	return time.Duration(i+1) * time.Millisecond, nil
}

func TestLoop(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		o     Options
		calls []int
		kept  []int
		timed int
		first time.Duration
	}{
		{"one pass", 3, Options{}, []int{0, 1, 2}, []int{0, 1, 2}, 3, time.Millisecond},
		{"warm-up first", 2, Options{Warmup: 2}, []int{0, 0, 0, 1}, []int{0, 1}, 2, time.Millisecond},
		{"runs cycle samples", 2, Options{Runs: 5}, []int{0, 1, 0, 1, 0}, []int{0, 1}, 5, time.Millisecond},
		{"min time", 2, Options{MinTime: 10 * time.Millisecond}, []int{0, 1, 0, 1, 0, 1, 0}, []int{0, 1}, 7, time.Millisecond},
		{"min time bounded", 1, Options{MinTime: time.Hour, MaxRuns: 4}, []int{0, 0, 0, 0}, []int{0}, 4, time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{}
			r, err := Loop(context.Background(), tc.n, tc.o, f.run)
			require.NoError(t, err)
			assert.Equal(t, tc.calls, f.calls)
			assert.Equal(t, tc.kept, f.kept, "outputs are kept on the first pass only")
			assert.Equal(t, tc.timed, r.Latency.N)
			assert.Len(t, r.Times, tc.timed)
			assert.Equal(t, tc.first, r.First)
		})
	}
}

func TestLoopErrors(t *testing.T) {
	f := &fake{fail: 3}
	_, err := Loop(context.Background(), 4, Options{}, f.run)
	var se *SampleError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 3, se.Sample)
	assert.Equal(t, 2, se.Done, "completed samples are counted")
	assert.EqualError(t, err, "sample 3 of 4: boom")

	f = &fake{fail: 1}
	_, err = Loop(context.Background(), 2, Options{Warmup: 1}, f.run)
	require.ErrorAs(t, err, &se)
	assert.True(t, se.Warmup)
	assert.EqualError(t, err, "warm-up: boom")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Loop(ctx, 2, Options{}, (&fake{}).run)
	assert.ErrorIs(t, err, context.Canceled)

	_, err = Loop(context.Background(), 0, Options{}, (&fake{}).run)
	assert.Error(t, err)
}
