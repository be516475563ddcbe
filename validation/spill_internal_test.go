//go:build cgo

package validation

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/internal/mapped"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/runtime"
)

// comparable is a result's JSON without what differs between two runs of
// the same validation (times, durations, the machine's facts).
func comparable(t *testing.T, r *compare.Result) map[string]any {
	t.Helper()
	b, err := json.Marshal(r)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"time", "duration_ms", "convert_ms", "init_ms", "latency_ms", "latency_samples_ms",
		"reference_ms", "first_inference_ms", "peak_rss_bytes", "device_facts"} {
		delete(m, k)
	}
	return m
}

// TestSpilledRunSameResult: with every threshold at zero, the source's
// HDF5 frame and the .tflite are moved into file mappings and evicted
// between steps (the device opens the mapped .tflite; the reference runs
// after the device with int8 inputs; a failed run is located with the
// canonical graph made again), and the result is the same as without.
func TestSpilledRunSameResult(t *testing.T) {
	for _, tc := range []struct {
		name, model string
		prec        precision.Precision
		int8IO      bool
	}{
		{"float32", "keras/mlcommons-tiny/vww_96.h5", precision.Float32, false},
		{"int8 io", "keras/mlcommons-tiny/vww_96.h5", precision.Int8, true},
		{"int8 resnet", "keras/mlcommons-tiny/pretrainedResnet.h5", precision.Int8, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			var decoded []*hdf5.Snapshot
			var frames [][]byte
			run := func(spill int) (*compare.Result, bool) {
				old := spillBytes
				spillBytes = spill
				defer func() { spillBytes = old }()
				decoded, frames = nil, nil
				tfliteMapped, opens := false, 0
				res, err := Run(context.Background(), Options{
					Model: testutil.Fixture(t, tc.model), Samples: 4, NoiseSamples: 2, Precision: tc.prec, Int8IO: tc.int8IO,
					Device: "host", OutDir: out,
					Open: func(ctx context.Context, model []byte) (runtime.Session, error) {
						if opens++; opens == 1 { // locating opens patched copies
							tfliteMapped = mapped.Is(model)
						}
						return Local("litert", runtime.Options{})(ctx, model)
					},
					ReadHDF5: func(path string, opts hdf5.SnapshotOptions) (*hdf5.Snapshot, error) {
						// A frame, as the snapshot child gives it.
						s, err := hdf5.TakeSnapshot(path, opts)
						if err != nil {
							return nil, err
						}
						var buf bytes.Buffer
						if err := s.Encode(&buf); err != nil {
							return nil, err
						}
						d, err := hdf5.DecodeSnapshot(buf.Bytes())
						decoded, frames = append(decoded, d), append(frames, d.Frame())
						return d, err
					},
				})
				require.NoError(t, err)
				return res, tfliteMapped
			}
			want, heapTFLite := run(1 << 62)
			require.NotEmpty(t, decoded)
			assert.False(t, heapTFLite)
			// Addresses only: a released mapping must not be read.
			at := func(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
			assert.Equal(t, at(frames[0]), at(decoded[0].Frame()), "no frame moved")
			got, mappedTFLite := run(0)
			assert.True(t, mappedTFLite, "the device opened the mapped .tflite")
			assert.NotEqual(t, at(frames[0]), at(decoded[0].Frame()), "the frame moved into a mapping")
			assert.Equal(t, comparable(t, want), comparable(t, got))
			t.Logf("%s: verdict %s", tc.name, got.Verdict)
		})
	}
}
