//go:build cgo && tflite

package corpus

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/runtime/tflitec"
	"github.com/edgeval/edgeval/tensor"
)

// TestCorpusTFLiteC runs the corpus on the real TFLite C runtime too: our
// .tflite against the framework and against LiteRT-WASM's outputs (the two
// runtimes must agree within the float32 tolerance), and the real
// converter's .tflite against the framework.
func TestCorpusTFLiteC(t *testing.T) {
	dir, err := Dir()
	require.NoError(t, err)
	cases, err := Load(dir)
	require.NoError(t, err)
	known, err := ReadKnownFailures(filepath.Join(dir, "KNOWN_FAILURES"))
	require.NoError(t, err)
	lit, err := runtime.Get("litert")
	require.NoError(t, err)
	crt, err := runtime.Get(tflitec.Name)
	require.NoError(t, err)
	ctx := context.Background()
	var all []outcome
	for _, c := range cases {
		_, run := walkCase(ctx, lit, c)
		names := make([]string, len(c.Outputs))
		for i, o := range c.Outputs {
			names[i] = o.Name
		}
		add := func(check string, rel float64, err error) {
			all = append(all, outcome{caseID: c.ID(), check: check, rel: rel, err: err})
		}
		if run.ours != nil {
			got, err := runTFLite(ctx, crt, c, run.ours, run.inputs, false)
			if err != nil {
				add(checkOursRT+tflitec.Name, 0, err)
				add(checkAgree, 0, err)
			} else {
				rel, err := Compare(names, run.expected, got)
				add(checkOursRT+tflitec.Name, rel, err)
				if run.oursOut == nil {
					add(checkAgree, 0, errors.New("our .tflite did not run on LiteRT"))
				} else {
					rel, err := Compare(names, run.oursOut, got)
					add(checkAgree, rel, err)
				}
			}
		}
		for _, tf := range c.TFLite {
			p, ok := quantPrecisions[tf.Precision]
			if !ok {
				continue
			}
			check := "real-" + tf.Precision + "/tflite"
			ins, want, err := c.Expected(tf.Expected)
			var got []*tensor.Tensor
			if err == nil {
				var model []byte
				if model, err = readFile(c.Path(tf.File)); err == nil {
					got, err = runTFLite(ctx, crt, c, model, ins, !tf.StaticBatch)
				}
			}
			if err != nil {
				add(check, 0, err)
				continue
			}
			rel, err := ComparePrecision(p, names, want, got)
			add(check, rel, err)
		}
		if tf, ok := c.TFLiteOf("float32"); ok {
			ins, want, err := c.Expected(tf.Expected)
			if err == nil {
				var model []byte
				if model, err = readFile(c.Path(tf.File)); err == nil {
					var got []*tensor.Tensor
					got, err = runTFLite(ctx, crt, c, model, ins, !tf.StaticBatch)
					if err == nil {
						rel, cerr := Compare(names, want, got)
						add(checkTFC, rel, cerr)
						continue
					}
				}
			}
			add(checkTFC, 0, fmt.Errorf("%w", err))
		}
	}
	tally(t, all, known, cRuntimeCheck)
}
