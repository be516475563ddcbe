package history

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/precision"
)

// Baseline says which earlier result of a series its latest result is
// compared with.
type Baseline struct {
	// Kind is BaselineLastPass, BaselinePrevious or BaselineAge.
	Kind string
	// Age, for BaselineAge: the baseline is the newest result recorded at
	// least Age before the latest one.
	Age time.Duration
}

// Baseline kinds.
const (
	// BaselineLastPass is the newest earlier result that passed.
	BaselineLastPass = "last-pass"
	// BaselinePrevious is the result just before the latest.
	BaselinePrevious = "previous"
	// BaselineAge is the newest result at least Baseline.Age older.
	BaselineAge = "age"
)

// ParseBaseline reads a --baseline value: "last-pass", "previous", a number
// of days ("7", "7d", "1.5d") or a Go duration ("36h").
func ParseBaseline(s string) (Baseline, error) {
	switch s {
	case BaselineLastPass:
		return Baseline{Kind: BaselineLastPass}, nil
	case BaselinePrevious, "last":
		return Baseline{Kind: BaselinePrevious}, nil
	}
	d, err := ParseAge(s)
	if err != nil {
		return Baseline{}, fmt.Errorf("baseline %q: want last-pass, previous, a number of days (7d) or a duration (36h)", s)
	}
	return Baseline{Kind: BaselineAge, Age: d}, nil
}

// ParseAge reads a positive age: a number of days ("7", "7d", "0.5d") or a
// Go duration ("36h", "90m").
func ParseAge(s string) (time.Duration, error) {
	days := strings.TrimSuffix(s, "d")
	if n, err := strconv.ParseFloat(days, 64); err == nil {
		if n <= 0 || n > 1e5 || math.IsNaN(n) {
			return 0, fmt.Errorf("age %q: want a positive number of days", s)
		}
		return time.Duration(n * 24 * float64(time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("age %q: want a number of days (7d) or a positive duration (36h)", s)
	}
	return d, nil
}

// String returns the form ParseBaseline reads.
func (b Baseline) String() string {
	if b.Kind == BaselineAge {
		if b.Age%(24*time.Hour) == 0 {
			return fmt.Sprintf("%dd", b.Age/(24*time.Hour))
		}
		return b.Age.String()
	}
	return b.Kind
}

// Thresholds are the noise margins of the regression rules (see
// FindRegressions).
type Thresholds struct {
	// ErrorGrowth is the factor by which an error metric must grow.
	ErrorGrowth float64 `json:"error_growth"`
	// ErrorFloor is the fraction of the tolerance the grown error must
	// also exceed.
	ErrorFloor float64 `json:"error_floor"`
	// LatencyGrowth is the fraction by which latency p50 must grow.
	LatencyGrowth float64 `json:"latency_growth"`
}

// DefaultThresholds: an error metric regresses when it more than doubles
// and is above 10% of its tolerance; latency when p50 is more than 10%
// slower and the slowdown exceeds the runs' own spread.
var DefaultThresholds = Thresholds{ErrorGrowth: 2, ErrorFloor: 0.1, LatencyGrowth: 0.1}

// Finding kinds.
const (
	FindingVerdict = "verdict"
	FindingMaxAbs  = "max_abs"
	FindingCosine  = "cosine"
	FindingLatency = "latency_p50"
)

// Finding is one regression between a baseline and the latest result.
type Finding struct {
	// Kind is FindingVerdict, FindingMaxAbs, FindingCosine or
	// FindingLatency.
	Kind string `json:"kind"`
	// Output names the model output, for an output metric.
	Output string `json:"output,omitempty"`
	// Baseline and Latest are the metric's values (for max_abs and
	// latency), or 1-cosine (for cosine); zero for a verdict.
	Baseline float64 `json:"baseline,omitempty"`
	Latest   float64 `json:"latest,omitempty"`
	// Message says what regressed, in one line.
	Message string `json:"message"`
}

// Comparison statuses.
const (
	// StatusRegressed: the latest result regressed from its baseline.
	StatusRegressed = "regressed"
	// StatusOK: the latest result passes and did not regress.
	StatusOK = "ok"
	// StatusFixed: the latest passes, the baseline did not.
	StatusFixed = "fixed"
	// StatusFailing: the latest does not pass and neither did the
	// baseline (or there is none): not a new regression.
	StatusFailing = "failing"
	// StatusNew: the latest passes and has no baseline.
	StatusNew = "new"
)

// Comparison is the latest result of one series against its baseline.
type Comparison struct {
	// Model is the series' logical model name (see Key.Name) and
	// ModelSHA256 the model file's sha256.
	Model       string              `json:"model"`
	ModelSHA256 string              `json:"model_sha256,omitempty"`
	Precision   precision.Precision `json:"precision"`
	Device      string              `json:"device"`
	Status      string              `json:"status"`
	// Runs is how many results the series has.
	Runs     int       `json:"runs"`
	Latest   Record    `json:"latest"`
	Baseline *Record   `json:"baseline,omitempty"`
	Findings []Finding `json:"findings,omitempty"`
	// Notes are facts that may explain a change (another .tflite, another
	// runtime version, a new model file that started a new series)
	// without being regressions themselves.
	Notes []string `json:"notes,omitempty"`
}

// RegressionReport compares the latest result of every series in a
// history with its baseline.
type RegressionReport struct {
	Baseline    string       `json:"baseline"`
	Thresholds  Thresholds   `json:"thresholds"`
	Comparisons []Comparison `json:"comparisons"`
}

// Regressions returns how many series regressed.
func (r *RegressionReport) Regressions() int {
	n := 0
	for _, c := range r.Comparisons {
		if c.Status == StatusRegressed {
			n++
		}
	}
	return n
}

// FindRegressions compares the latest result of each series (logical
// model name, model sha256, precision, device) in records with the
// baseline b picks among the series' earlier results. Records are ordered
// by recording time first (ties keep their order), so histories merged
// from several runners compare right. The latest result regressed when
// any of these holds:
//
//   - verdict: the baseline passed and the latest did not (fail or error:
//     a device that stopped working must not turn a nightly green);
//   - max_abs, per output present in both: latest > ErrorGrowth × baseline
//     and latest > ErrorFloor × the output's tolerance, or latest is NaN;
//   - cosine, per output: 1−cosine grows in the same way, against the
//     tolerance's allowance 1−min_cosine;
//   - latency: both runs on the same runtime, p50 > (1+LatencyGrowth) ×
//     baseline p50, and the slowdown exceeds the larger of the two runs'
//     spreads (p90 − p50), so a noisy run does not count.
//
// A metric regression counts even when the latest result still passes: it
// is eating into the tolerance. A result that fails like its baseline did
// is "failing", not a new regression.
//
// A new model file (another sha256 under the same name, precision and
// device) starts a new series: results of different files are not
// compared. Only the series of the newest file is reported, with a note
// naming the file it replaced, so that a retrained model's old series does
// not stay in the report (or keep it red) for ever. A record without a
// model sha256 (a run that could not read the model) belongs to the series
// recorded just before it under the same name, precision and device: a
// model that became unreadable is a regression of that series.
func FindRegressions(records []Record, b Baseline, th Thresholds) *RegressionReport {
	rep := &RegressionReport{Baseline: b.String(), Thresholds: th}
	records = slices.Clone(records)
	slices.SortStableFunc(records, func(x, y Record) int { return x.Key.Time.Compare(y.Key.Time) })
	type slot struct {
		Name      string
		Precision precision.Precision
		Device    string
	}
	// Each slot's series, in the order their files first appeared, and
	// the series of the slot's newest record.
	files := map[slot][]Series{}
	current := map[slot]Series{}
	series := map[Series][]Record{}
	for _, r := range records {
		if r.Result == nil {
			continue
		}
		k := r.Key
		k.normalize()
		sl := slot{k.Name, k.Precision, k.Device}
		s := k.Series()
		if cur, ok := current[sl]; ok && s.ModelSHA256 == "" {
			s = cur
		}
		if _, seen := series[s]; !seen {
			files[sl] = append(files[sl], s)
		}
		current[sl] = s
		series[s] = append(series[s], r)
	}
	for sl, s := range current {
		runs := series[s]
		latest := runs[len(runs)-1]
		c := Comparison{Model: s.Name, ModelSHA256: s.ModelSHA256, Precision: s.Precision, Device: s.Device, Runs: len(runs), Latest: latest}
		if base := pickBaseline(runs[:len(runs)-1], latest, b); base != nil {
			c.Baseline = base
			c.Findings = compareRuns(base.Result, latest.Result, th)
			c.Notes = notes(base, &latest)
		}
		c.Notes = append(c.Notes, replaced(files[sl], s, series)...)
		switch {
		case len(c.Findings) > 0:
			c.Status = StatusRegressed
		case !latest.Result.Passed():
			c.Status = StatusFailing
		case c.Baseline == nil:
			c.Status = StatusNew
		case !c.Baseline.Result.Passed():
			c.Status = StatusFixed
		default:
			c.Status = StatusOK
		}
		rep.Comparisons = append(rep.Comparisons, c)
	}
	slices.SortFunc(rep.Comparisons, func(x, y Comparison) int {
		return cmp.Or(cmp.Compare(x.Model, y.Model), cmp.Compare(x.Precision, y.Precision), cmp.Compare(x.Device, y.Device))
	})
	return rep
}

// replaced notes the model file that cur replaced in its slot (the other
// series of the same name, precision and device, oldest first), if any.
func replaced(files []Series, cur Series, series map[Series][]Record) []string {
	var prev *Series
	n := 0
	for i, s := range files {
		if s == cur {
			continue
		}
		n += len(series[s])
		prev = &files[i]
	}
	if prev == nil {
		return nil
	}
	return []string{fmt.Sprintf("model file changed (sha256 %s → %s): a new series; %d result(s) of earlier files not compared",
		short(prev.ModelSHA256), short(cur.ModelSHA256), n)}
}

// short is the first 12 hex digits of a sha256, or "none".
func short(sha string) string {
	if sha == "" {
		return "none"
	}
	return fmt.Sprintf("%.12s", sha)
}

// pickBaseline returns the baseline among earlier (oldest first), or nil.
func pickBaseline(earlier []Record, latest Record, b Baseline) *Record {
	for i := len(earlier) - 1; i >= 0; i-- {
		r := earlier[i]
		switch b.Kind {
		case BaselinePrevious:
			return &r
		case BaselineAge:
			if !r.Key.Time.After(latest.Key.Time.Add(-b.Age)) {
				return &r
			}
		default:
			if r.Result.Passed() {
				return &r
			}
		}
	}
	return nil
}

// compareRuns applies the rules of FindRegressions.
func compareRuns(base, latest *compare.Result, th Thresholds) []Finding {
	var fs []Finding
	if base.Passed() && !latest.Passed() {
		msg := fmt.Sprintf("verdict pass → %s", latest.Verdict)
		if latest.Verdict == compare.VerdictPass {
			msg = "verdict pass → fail (an output failed)"
		}
		if latest.Error != "" {
			msg += ": " + firstLine(latest.Error)
		}
		fs = append(fs, Finding{Kind: FindingVerdict, Message: msg})
	}
	for _, lo := range latest.Outputs {
		i := slices.IndexFunc(base.Outputs, func(o compare.OutputResult) bool { return o.Name == lo.Name })
		if i < 0 {
			continue
		}
		bo := base.Outputs[i]
		l, b := lo.Metrics.MaxAbs, bo.Metrics.MaxAbs
		if (math.IsNaN(l) && !math.IsNaN(b)) || (l > th.ErrorGrowth*b && l > th.ErrorFloor*lo.Tolerance.MaxAbs) {
			fs = append(fs, Finding{Kind: FindingMaxAbs, Output: lo.Name, Baseline: b, Latest: l,
				Message: fmt.Sprintf("output %q: max abs error %.3g → %.3g (%s, tolerance %.3g)", lo.Name, b, l, growth(b, l), lo.Tolerance.MaxAbs)})
		}
		lc, bc := 1-lo.Metrics.Cosine, 1-bo.Metrics.Cosine
		allowed := 1 - lo.Tolerance.MinCosine
		if lc > th.ErrorGrowth*bc && lc > th.ErrorFloor*allowed && allowed > 0 {
			fs = append(fs, Finding{Kind: FindingCosine, Output: lo.Name, Baseline: bc, Latest: lc,
				Message: fmt.Sprintf("output %q: cosine similarity %.7f → %.7f (1−cos %s, allowed %.3g)", lo.Name, bo.Metrics.Cosine, lo.Metrics.Cosine, growth(bc, lc), allowed)})
		}
	}
	bl, ll := base.LatencyMS, latest.LatencyMS
	if bl.P50 > 0 && ll.P50 > 0 && base.Runtime.Name == latest.Runtime.Name {
		spread := max(bl.P90-bl.P50, ll.P90-ll.P50, 0)
		if ll.P50 > (1+th.LatencyGrowth)*bl.P50 && ll.P50-bl.P50 > spread {
			fs = append(fs, Finding{Kind: FindingLatency, Baseline: bl.P50, Latest: ll.P50,
				Message: fmt.Sprintf("latency p50 %.3f ms → %.3f ms (+%.0f%%, beyond the runs' spread of %.3f ms)", bl.P50, ll.P50, 100*(ll.P50/bl.P50-1), spread)})
		}
	}
	return fs
}

func growth(b, l float64) string {
	if b <= 0 {
		return "from zero"
	}
	return fmt.Sprintf("×%.1f", l/b)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// notes lists changes between base and latest that may explain a finding.
func notes(base, latest *Record) []string {
	var ns []string
	if b, l := tfliteSHA256(base), tfliteSHA256(latest); b != "" && l != "" && b != l {
		ns = append(ns, fmt.Sprintf("tflite changed (sha256 %s → %s)", short(b), short(l)))
	}
	br, lr := base.Result.Runtime, latest.Result.Runtime
	if br.Name != lr.Name || br.Version != lr.Version || br.Delegate != lr.Delegate {
		ns = append(ns, fmt.Sprintf("runtime changed (%s → %s)", runtimeString(br), runtimeString(lr)))
	}
	return ns
}

// tfliteSHA256 is the sha256 of the .tflite r ran, from its key or else its
// result.
func tfliteSHA256(r *Record) string {
	if r.Key.TFLiteSHA256 != "" {
		return r.Key.TFLiteSHA256
	}
	return r.Result.TFLiteSHA256
}

func runtimeString(r compare.RuntimeInfo) string {
	s := strings.TrimSpace(r.Name + " " + r.Version)
	if r.Delegate != "" && r.Delegate != "none" {
		s += " +" + r.Delegate
	}
	if s == "" {
		return "none"
	}
	return s
}
