package tflite

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/graph/graphtest"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tensor"
)

var updatePinned = flag.Bool("update-pinned", false, "rewrite testdata/pinned_sha256.json with the hashes of this run's conversions")

// pinnedFile holds the sha256 of every conversion TestConvertBytesPinned
// makes, by name: what the converter wrote when they were pinned.
const pinnedFile = "testdata/pinned_sha256.json"

// pinnedConversion is one conversion whose bytes are pinned.
type pinnedConversion struct {
	name string
	// graph returns the canonical graph to convert, or skips.
	graph func(t *testing.T) *graph.Graph
	opts  Options
}

// TestConvertBytesPinned converts every op case of graphtest.Cases, the
// Keras fixtures (MobileNet v1 vww_96, ResNet-8, the ad01 Dense
// autoencoder: BatchNorm folded into convolutions, depthwise and Dense
// weights) and, when $EDGEVAL_ZOO has them, the zoo's largest models, at
// every precision, and checks that each .tflite is byte for byte what the
// converter wrote when the hashes were pinned: a speed-up of the writer
// (weights relaid straight into the flatbuffer, folding, buffer layout)
// must not change a byte. -update-pinned rewrites the file after a change
// that means to change the bytes. The int8 conversions calibrate on the
// float32 reference's activations, so a change of the reference's
// summation order (same model, other last bits) may move a quantization
// parameter and their bytes: that is such a change (ResNet-8's int8 moved
// when small 3x3 convolutions went to im2col).
//
// Only on amd64: Go may fuse a float64 multiply-add into one FMA on other
// architectures, which changes the rounding of a folded bias.
func TestConvertBytesPinned(t *testing.T) {
	if goruntime.GOARCH != "amd64" {
		t.Skipf("pinned on amd64; %s may round folded constants differently (FMA)", goruntime.GOARCH)
	}
	var pinned map[string]string
	raw, err := os.ReadFile(pinnedFile)
	if !*updatePinned || err == nil {
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &pinned))
	}
	if pinned == nil {
		pinned = map[string]string{}
	}
	got := map[string]string{}
	for _, c := range pinnedConversions() {
		t.Run(c.name, func(t *testing.T) {
			g, opts := c.graph(t), c.opts
			if opts.Precision == precision.Int8 {
				// Ranges calibrated on seeded inputs.
				opts.Ranges = calibrate(t, g, [][]*tensor.Tensor{randInputs(g, 7, 0, 1)})
			}
			data, _, err := Convert(g, opts)
			require.NoError(t, err)
			sum := sha256.Sum256(data)
			got[c.name] = hex.EncodeToString(sum[:])
			if *updatePinned {
				return
			}
			want, ok := pinned[c.name]
			require.True(t, ok, "%s has no pinned hash: run go test -run ConvertBytesPinned -update-pinned", c.name)
			assert.Equal(t, want, got[c.name], "%s: the converter's bytes changed", c.name)
		})
	}
	if *updatePinned {
		// Keep hashes of conversions this run skipped (the zoo's when it is
		// absent).
		for k, v := range pinned {
			if _, ok := got[k]; !ok {
				got[k] = v
			}
		}
		out, err := json.MarshalIndent(got, "", " ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(pinnedFile, append(out, '\n'), 0o644))
	}
}

// pinnedConversions lists the conversions TestConvertBytesPinned pins.
func pinnedConversions() []pinnedConversion {
	floats := []precision.Precision{precision.Float32, precision.Float16, precision.Dynamic}
	var cs []pinnedConversion
	for _, tc := range graphtest.Cases() {
		if _, refused := writerRefusals[tc.Name]; refused {
			continue
		}
		build := func(t *testing.T) *graph.Graph {
			g, _, err := tc.Build(1)
			require.NoError(t, err)
			for _, v := range g.Inputs {
				v.NoBatch = true
			}
			if hasNCHW(g) {
				g, err = passes.ToNHWC(g, passes.LayoutOptions{})
				require.NoError(t, err)
			}
			return g
		}
		for _, p := range floats {
			cs = append(cs, pinnedConversion{name: "op/" + tc.Name + "/" + string(p), graph: build, opts: Options{Precision: p}})
		}
	}
	fixtures := []struct{ name, rel string }{
		{"vww_96", "keras/mlcommons-tiny/vww_96.h5"},
		{"resnet8", "keras/mlcommons-tiny/pretrainedResnet.h5"},
		{"ad01", "keras/mlcommons-tiny/ad01.h5"},
	}
	for _, f := range fixtures {
		build := func(t *testing.T) *graph.Graph {
			g, err := passes.Canonicalize(loadKeras(t, f.rel), passes.Options{})
			require.NoError(t, err)
			return g
		}
		for _, p := range floats {
			cs = append(cs, pinnedConversion{name: "fixture/" + f.name + "/" + string(p), graph: build, opts: Options{Precision: p}})
		}
		cs = append(cs, pinnedConversion{name: "fixture/" + f.name + "/int8", graph: build, opts: Options{Precision: precision.Int8}})
	}
	for _, name := range zooModels {
		cs = append(cs, pinnedConversion{name: "zoo/" + name + "/float32", graph: func(t *testing.T) *graph.Graph {
			dir := zooDir(t)
			g, err := keras.Load(filepath.Join(dir, "keras", name, "model_k2.h5"), keras.Options{})
			if errors.Is(err, hdf5.ErrNotBuilt) {
				t.Skip("needs cgo")
			}
			require.NoError(t, err)
			g, err = passes.Canonicalize(g, passes.Options{})
			require.NoError(t, err)
			return g
		}})
	}
	return cs
}
