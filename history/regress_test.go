package history

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/precision"
)

var day0 = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

// run is a synthetic history entry: a model on host at float32, recorded
// day days after day0.
type run struct {
	model   string
	day     float64
	verdict string
	maxAbs  float64
	cosine  float64
	p50     float64
	p90     float64
	runtime string
	hash    string
	tflite  string
	name    string
}

func (r run) record() Record {
	if r.cosine == 0 {
		r.cosine = 1
	}
	if r.runtime == "" {
		r.runtime = "2.5.3"
	}
	tol := compare.Tolerance{Precision: precision.Float32, MaxAbs: 1e-3, MinCosine: 0.99999}
	res := &compare.Result{
		SchemaVersion: compare.SchemaVersion, Verdict: r.verdict, Model: r.model, ModelHash: r.hash, TFLiteSHA256: r.tflite,
		Precision: precision.Float32, Device: "host",
		Runtime:   compare.RuntimeInfo{Name: "litert-wasm", Version: r.runtime},
		LatencyMS: bench.Summary{P50: r.p50, P90: r.p90},
	}
	if r.verdict != compare.VerdictError {
		res.Outputs = []compare.OutputResult{{Name: "out", Metrics: compare.Metrics{MaxAbs: r.maxAbs, Cosine: r.cosine}, Tolerance: tol, Pass: r.verdict == compare.VerdictPass}}
	}
	return NewRecord(res, r.name, day0.Add(time.Duration(r.day*24*float64(time.Hour))))
}

func history(runs ...run) []Record {
	recs := make([]Record, len(runs))
	for i, r := range runs {
		if r.model == "" {
			r.model = "/m/a.h5"
		}
		recs[i] = r.record()
	}
	return recs
}

func TestFindRegressions(t *testing.T) {
	pass := func(day, maxAbs, p50, p90 float64) run {
		return run{day: day, verdict: compare.VerdictPass, maxAbs: maxAbs, p50: p50, p90: p90}
	}
	tests := []struct {
		name     string
		baseline string
		runs     []run
		status   string
		kinds    []string
		baseDay  float64 // the baseline's day, when there is one
	}{
		{"one run is new", "last-pass", []run{pass(0, 1e-5, 1, 1.05)}, StatusNew, nil, -1},
		{"steady", "last-pass", []run{pass(0, 1e-5, 1, 1.05), pass(1, 1.2e-5, 1.02, 1.06)}, StatusOK, nil, 0},
		{"pass to fail", "last-pass", []run{pass(0, 1e-5, 1, 1.05), {day: 1, verdict: compare.VerdictFail, maxAbs: 5e-3, p50: 1, p90: 1.05}}, StatusRegressed, []string{FindingVerdict, FindingMaxAbs}, 0},
		{"pass to error", "last-pass", []run{pass(0, 1e-5, 1, 1.05), {day: 1, verdict: compare.VerdictError}}, StatusRegressed, []string{FindingVerdict}, 0},
		{"max_abs grew but is tiny against tolerance", "last-pass", []run{pass(0, 1e-6, 1, 1.05), pass(1, 5e-5, 1, 1.05)}, StatusOK, nil, 0},
		{"max_abs grew into the tolerance", "last-pass", []run{pass(0, 1e-5, 1, 1.05), pass(1, 4e-4, 1, 1.05)}, StatusRegressed, []string{FindingMaxAbs}, 0},
		{"max_abs 1.5x is noise", "last-pass", []run{pass(0, 3e-4, 1, 1.05), pass(1, 4.5e-4, 1, 1.05)}, StatusOK, nil, 0},
		{"cosine dropped", "last-pass", []run{pass(0, 1e-5, 1, 1.05), {day: 1, verdict: compare.VerdictPass, maxAbs: 1e-5, cosine: 0.999995, p50: 1, p90: 1.05}}, StatusRegressed, []string{FindingCosine}, 0},
		{"latency 30% slower, tight runs", "last-pass", []run{pass(0, 1e-5, 1, 1.05), pass(1, 1e-5, 1.3, 1.35)}, StatusRegressed, []string{FindingLatency}, 0},
		{"latency 30% slower within a noisy run's spread", "last-pass", []run{pass(0, 1e-5, 1, 1.05), pass(1, 1e-5, 1.3, 2)}, StatusOK, nil, 0},
		{"latency 5% slower", "last-pass", []run{pass(0, 1e-5, 1, 1), pass(1, 1e-5, 1.05, 1.05)}, StatusOK, nil, 0},
		{"latency on a new runtime version is still compared", "last-pass", []run{pass(0, 1e-5, 1, 1.05), {day: 1, verdict: compare.VerdictPass, maxAbs: 1e-5, p50: 3, p90: 3, runtime: "2.6.0"}}, StatusRegressed, []string{FindingLatency}, 0},
		{"still failing", "last-pass", []run{pass(0, 1e-5, 1, 1.05), {day: 1, verdict: compare.VerdictFail, maxAbs: 5e-3}, {day: 2, verdict: compare.VerdictFail, maxAbs: 5e-3}}, StatusRegressed, []string{FindingVerdict, FindingMaxAbs}, 0},
		{"failing with no pass ever", "last-pass", []run{{day: 0, verdict: compare.VerdictFail, maxAbs: 5e-3}, {day: 1, verdict: compare.VerdictFail, maxAbs: 5e-3}}, StatusFailing, nil, -1},
		{"previous: failing like before", "previous", []run{pass(0, 1e-5, 1, 1.05), {day: 1, verdict: compare.VerdictFail, maxAbs: 5e-3}, {day: 2, verdict: compare.VerdictFail, maxAbs: 5e-3}}, StatusFailing, nil, 1},
		{"previous: fixed", "previous", []run{{day: 0, verdict: compare.VerdictFail, maxAbs: 5e-3}, pass(1, 1e-5, 1, 1.05)}, StatusFixed, nil, 0},
		{"7 days: compares with last week", "7d", []run{pass(0, 1e-5, 1, 1.05), pass(6, 1e-5, 2, 2.05), pass(8, 1e-5, 2, 2.05)}, StatusRegressed, []string{FindingLatency}, 0},
		{"7 days: nothing that old", "7d", []run{pass(3, 1e-5, 1, 1.05), pass(8, 1e-5, 2, 2.05)}, StatusNew, nil, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ParseBaseline(tc.baseline)
			require.NoError(t, err)
			rep := FindRegressions(history(tc.runs...), b, DefaultThresholds)
			require.Len(t, rep.Comparisons, 1)
			c := rep.Comparisons[0]
			assert.Equal(t, tc.status, c.Status)
			var kinds []string
			for _, f := range c.Findings {
				kinds = append(kinds, f.Kind)
				assert.NotEmpty(t, f.Message)
			}
			assert.Equal(t, tc.kinds, kinds)
			assert.Equal(t, len(tc.runs), c.Runs)
			if tc.baseDay < 0 {
				assert.Nil(t, c.Baseline)
			} else if assert.NotNil(t, c.Baseline) {
				assert.Equal(t, day0.Add(time.Duration(tc.baseDay*24)*time.Hour), c.Baseline.Key.Time)
			}
			wantRegressions := 0
			if tc.status == StatusRegressed {
				wantRegressions = 1
			}
			assert.Equal(t, wantRegressions, rep.Regressions())
		})
	}
}

func TestFindRegressionsSeries(t *testing.T) {
	recs := history(
		run{model: "/m/b.h5", day: 0, verdict: compare.VerdictPass, maxAbs: 1e-5},
		run{model: "/m/a.h5", day: 0, verdict: compare.VerdictPass, maxAbs: 1e-5, hash: "aaaa", tflite: "1111"},
		run{model: "/m/b.h5", day: 1, verdict: compare.VerdictFail, maxAbs: 1},
		run{model: "/m/a.h5", day: 1, verdict: compare.VerdictPass, maxAbs: 1e-5, hash: "aaaa", tflite: "2222", runtime: "2.6.0"},
	)
	other := recs[3]
	other.Key.Device, other.Result.Device = "rpi4", "rpi4"
	recs = append(recs, other)
	rep := FindRegressions(recs, Baseline{Kind: BaselineLastPass}, DefaultThresholds)
	require.Len(t, rep.Comparisons, 3, "one series per (name, model sha256, precision, device)")
	assert.Equal(t, []string{"a.h5", "a.h5", "b.h5"}, []string{rep.Comparisons[0].Model, rep.Comparisons[1].Model, rep.Comparisons[2].Model},
		"series are named by the logical name, not the path")
	assert.Equal(t, "host", rep.Comparisons[0].Device)
	assert.Equal(t, "aaaa", rep.Comparisons[0].ModelSHA256)
	assert.Equal(t, StatusOK, rep.Comparisons[0].Status)
	assert.Equal(t, []string{"tflite changed (sha256 1111 → 2222)", "runtime changed (litert-wasm 2.5.3 → litert-wasm 2.6.0)"}, rep.Comparisons[0].Notes)
	assert.Equal(t, StatusNew, rep.Comparisons[1].Status, "rpi4 is its own series")
	assert.Equal(t, StatusRegressed, rep.Comparisons[2].Status)
	assert.Equal(t, 1, rep.Regressions())
}

// TestFindRegressionsLogicalName: where a model file lay is not part of its
// series (two checkouts, two runners), its name and bytes are.
func TestFindRegressionsLogicalName(t *testing.T) {
	tests := []struct {
		name       string
		runs       []run
		wantModels []string
		wantStatus []string
		wantRuns   []int
		wantNote   string
	}{
		{
			name: "two checkouts, one series",
			runs: []run{
				{model: "/ci/runner1/work/models/net.h5", hash: "aaaa", day: 0, verdict: compare.VerdictPass, maxAbs: 1e-5},
				{model: "/home/me/src/edgeval/models/net.h5", hash: "aaaa", day: 1, verdict: compare.VerdictFail, maxAbs: 1},
			},
			wantModels: []string{"net.h5"}, wantStatus: []string{StatusRegressed}, wantRuns: []int{2},
		},
		{
			name: "same base name, other bytes: two series under one name, the newest reported",
			runs: []run{
				{model: "/m/v1/net.h5", hash: "aaaa", day: 0, verdict: compare.VerdictPass, maxAbs: 1e-5},
				{model: "/m/v1/net.h5", hash: "aaaa", day: 1, verdict: compare.VerdictFail, maxAbs: 1},
				{model: "/m/v2/net.h5", hash: "bbbb", day: 2, verdict: compare.VerdictPass, maxAbs: 1e-5},
			},
			wantModels: []string{"net.h5"}, wantStatus: []string{StatusNew}, wantRuns: []int{1},
			wantNote: "model file changed (sha256 aaaa → bbbb): a new series; 2 result(s) of earlier files not compared",
		},
		{
			name: "suite names tell files with one base name apart",
			runs: []run{
				{model: "/m/a/model.h5", name: "a", hash: "aaaa", day: 0, verdict: compare.VerdictPass, maxAbs: 1e-5},
				{model: "/m/b/model.h5", name: "b", hash: "bbbb", day: 0, verdict: compare.VerdictPass, maxAbs: 1e-5},
			},
			wantModels: []string{"a", "b"}, wantStatus: []string{StatusNew, StatusNew}, wantRuns: []int{1, 1},
		},
		{
			name: "a model that became unreadable (no sha256) regresses its series",
			runs: []run{
				{model: "/m/net.h5", hash: "aaaa", day: 0, verdict: compare.VerdictPass, maxAbs: 1e-5},
				{model: "/m/net.h5", day: 1, verdict: compare.VerdictError},
			},
			wantModels: []string{"net.h5"}, wantStatus: []string{StatusRegressed}, wantRuns: []int{2},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := FindRegressions(history(tc.runs...), Baseline{Kind: BaselineLastPass}, DefaultThresholds)
			var models, status []string
			var runs []int
			for _, c := range rep.Comparisons {
				models, status, runs = append(models, c.Model), append(status, c.Status), append(runs, c.Runs)
			}
			assert.Equal(t, tc.wantModels, models)
			assert.Equal(t, tc.wantStatus, status)
			assert.Equal(t, tc.wantRuns, runs)
			if tc.wantNote != "" {
				assert.Contains(t, rep.Comparisons[0].Notes, tc.wantNote)
			}
		})
	}
}

func TestFindRegressionsOrdersByTime(t *testing.T) {
	// A merged history: the newer failing run comes first in the file.
	recs := history(run{day: 1, verdict: compare.VerdictFail, maxAbs: 1}, run{day: 0, verdict: compare.VerdictPass, maxAbs: 1e-5})
	rep := FindRegressions(recs, Baseline{Kind: BaselineLastPass}, DefaultThresholds)
	require.Len(t, rep.Comparisons, 1)
	assert.Equal(t, StatusRegressed, rep.Comparisons[0].Status)
	assert.Equal(t, compare.VerdictFail, rep.Comparisons[0].Latest.Result.Verdict)
	assert.Equal(t, compare.VerdictFail, recs[0].Result.Verdict, "the caller's slice is not reordered")
}

func TestParseBaseline(t *testing.T) {
	tests := []struct {
		in   string
		want Baseline
		err  bool
	}{
		{"last-pass", Baseline{Kind: BaselineLastPass}, false},
		{"previous", Baseline{Kind: BaselinePrevious}, false},
		{"last", Baseline{Kind: BaselinePrevious}, false},
		{"7", Baseline{Kind: BaselineAge, Age: 7 * 24 * time.Hour}, false},
		{"7d", Baseline{Kind: BaselineAge, Age: 7 * 24 * time.Hour}, false},
		{"0.5d", Baseline{Kind: BaselineAge, Age: 12 * time.Hour}, false},
		{"36h", Baseline{Kind: BaselineAge, Age: 36 * time.Hour}, false},
		{"0", Baseline{}, true},
		{"-3d", Baseline{}, true},
		{"yesterday", Baseline{}, true},
		{"NaNd", Baseline{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseBaseline(tc.in)
			if tc.err {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.in)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Equal(t, "7d", Baseline{Kind: BaselineAge, Age: 7 * 24 * time.Hour}.String())
	assert.Equal(t, "36h0m0s", Baseline{Kind: BaselineAge, Age: 36 * time.Hour}.String())
}
