package lava

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/validation"
)

// ReplayError is a device's result that does not belong to what the
// controller computes now: another .tflite, other inputs. Never a pass.
type ReplayError struct {
	Job, Run string
	Msg      string
}

func (e *ReplayError) Error() string {
	return fmt.Sprintf("LAVA job %s, run %s: %s", e.Job, e.Run, e.Msg)
}

// replay is a validation session whose model ran in a LAVA job: it hands
// validation.Run the outputs the device printed, sample by sample, and
// the device's own timings (validation.Recorded).
type replay struct {
	job     *compare.FarmJob
	run     string
	rep     *devices.OfflineReport
	outs    map[string]*tensor.Tensor // stacked over samples
	samples map[string]int            // sample key → index
}

// Opener returns the validation.Opener of a run of a fetched job: the
// job's fault when it did not complete, else a session replaying the
// outputs the device printed. The inputs file sent to the device is read
// again to know which sample each of Run's calls is.
func (m *Manifest) Opener(r *ManifestRun, f *Fetched) validation.Opener {
	return func(ctx context.Context, model []byte) (runtime.Session, error) {
		if f.Fault != nil {
			return nil, f.Fault
		}
		fail := func(format string, args ...any) error {
			return &ReplayError{Job: f.Ref.ID, Run: r.Run.ID, Msg: fmt.Sprintf(format, args...)}
		}
		if got := hexSum(model); got != r.TFLiteSHA256 {
			return nil, fail("the .tflite converted now (sha256 %s) is not the one submitted (%s): the model, its options or validate changed since", got, r.TFLiteSHA256)
		}
		for _, name := range []string{r.Block + ".json", r.Block + ".npz"} {
			if ce := f.Corrupt[name]; ce != nil {
				return nil, ce
			}
		}
		js, npz := f.Blocks[r.Block+".json"], f.Blocks[r.Block+".npz"]
		if js == nil || npz == nil {
			return nil, &MissingError{Job: f.Ref.ID, Name: r.Block + ".npz", Hint: "the run failed on the device: see the job's log for `validate agent run`'s error"}
		}
		var rep devices.OfflineReport
		if err := json.Unmarshal(js, &rep); err != nil {
			return nil, fail("the agent's report: %v", err)
		}
		switch {
		case rep.ModelSHA256 != r.TFLiteSHA256:
			return nil, fail("the device ran a .tflite of sha256 %s, not %s", rep.ModelSHA256, r.TFLiteSHA256)
		case rep.InputsSHA256 != r.InputsSHA256:
			return nil, fail("the device ran inputs of sha256 %s, not %s", rep.InputsSHA256, r.InputsSHA256)
		case rep.OutputsSHA256 != hexSum(npz):
			return nil, fail("the outputs block (sha256 %s) is not the file the agent wrote (%s)", hexSum(npz), rep.OutputsSHA256)
		}
		outs, err := tensor.DecodeNPZ(r.Block+".npz", npz)
		if err != nil {
			return nil, fail("the outputs: %v", err)
		}
		s := &replay{job: f.Ref, run: r.Run.ID, rep: &rep, outs: map[string]*tensor.Tensor{}, samples: map[string]int{}}
		for _, o := range outs {
			s.outs[o.Name] = o.Tensor
		}
		for _, info := range rep.Outputs {
			t := s.outs[info.Name]
			if t == nil || len(t.Shape) == 0 || t.Shape[0] != rep.Samples {
				return nil, fail("the outputs have no array %q of %d samples", info.Name, rep.Samples)
			}
		}
		in, err := tensor.ReadNPZ(m.Path(r.Inputs))
		if err != nil {
			return nil, err
		}
		byName := map[string]*tensor.Tensor{}
		for _, a := range in {
			byName[a.Name] = a.Tensor
		}
		for i := 0; i < r.Samples; i++ {
			sample := make([]*tensor.Tensor, len(rep.Inputs))
			for k, info := range rep.Inputs {
				t := byName[info.Name]
				if t == nil {
					return nil, fail("the device's input %q is not in the inputs sent", info.Name)
				}
				sample[k] = t.Slice(i)
			}
			if _, dup := s.samples[sampleKey(sample)]; !dup {
				s.samples[sampleKey(sample)] = i
			}
		}
		return s, nil
	}
}

// sampleKey identifies a sample by its tensors' dtypes, shapes and bytes.
func sampleKey(ts []*tensor.Tensor) string {
	h := sha256.New()
	for _, t := range ts {
		fmt.Fprintf(h, "%v %v %d\n", t.DType, t.Shape, len(t.Data))
		h.Write(t.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Run returns the outputs the device computed for these inputs.
func (s *replay) Run(ctx context.Context, inputs []*tensor.Tensor) (*runtime.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	i, ok := s.samples[sampleKey(inputs)]
	if !ok {
		return nil, &ReplayError{Job: s.job.ID, Run: s.run, Msg: "validate now feeds inputs the device never ran: the inputs or their preprocessing changed since submission"}
	}
	res := &runtime.Result{Outputs: make([]*tensor.Tensor, len(s.rep.Outputs))}
	for k, info := range s.rep.Outputs {
		t := s.outs[info.Name].Slice(i)
		t.Quant = info.Quant
		res.Outputs[k] = t
	}
	if i < len(s.rep.TimesMS) {
		res.Invoke = time.Duration(s.rep.TimesMS[i] * float64(time.Millisecond))
	}
	return res, nil
}

// Info is the device's runtime.
func (s *replay) Info() runtime.Info { return s.rep.Runtime }

// Inputs are the device session's inputs.
func (s *replay) Inputs() []runtime.TensorInfo { return s.rep.Inputs }

// Outputs are the device session's outputs.
func (s *replay) Outputs() []runtime.TensorInfo { return s.rep.Outputs }

// Close does nothing: the device's session ended with its job.
func (s *replay) Close() error { return nil }

// Device is LAVA's name of the device.
func (s *replay) Device() string { return s.job.Device }

// Facts are the facts the agent collected on the device.
func (s *replay) Facts() *devices.Facts { return s.rep.Facts }

// FirstInvoke is the device's first inference.
func (s *replay) FirstInvoke() time.Duration {
	return time.Duration(s.rep.FirstInferenceMS * float64(time.Millisecond))
}

// EdgeTPU is nil: an offline run compiles nothing.
func (s *replay) EdgeTPU() *devices.EdgeTPUCompile { return nil }

// PeakRSS is the device process's peak memory.
func (s *replay) PeakRSS() int64 { return s.rep.PeakRSSBytes }

// Recording is what the device measured.
func (s *replay) Recording() validation.Recording {
	return validation.Recording{
		InitMS: s.rep.InitMS, FirstInferenceMS: s.rep.FirstInferenceMS, Latency: s.rep.LatencyMS,
		TimesMS: s.rep.TimesMS, PeakRSSBytes: s.rep.PeakRSSBytes,
	}
}

var (
	_ devices.Session     = (*replay)(nil)
	_ validation.Recorded = (*replay)(nil)
)
