package devices

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/edgeval/edgeval/tflite"
)

// EdgeTPUCustomOp is the custom operator edgetpu_compiler puts in the
// models it compiles.
const EdgeTPUCustomOp = "edgetpu-custom-op"

// RequireFullInt8 checks that a model can go to the Edge TPU: every tensor
// an operator reads or writes is an integer, except the float side of a
// QUANTIZE input or a DEQUANTIZE output (the conversions at the model's
// edges, which run on the CPU). The error names the offending operators.
func RequireFullInt8(model []byte) error {
	m, err := tflite.Read(model)
	if err != nil {
		return err
	}
	var bad []string
	for si, sg := range m.Subgraphs {
		for _, op := range sg.Operators {
			name := op.Name()
			float := func(ts []int, edge bool) *tflite.Tensor {
				for _, ti := range ts {
					if ti >= 0 && ti < len(sg.Tensors) && !edge && sg.Tensors[ti].DType.IsFloat() {
						return &sg.Tensors[ti]
					}
				}
				return nil
			}
			t := float(op.Inputs, name == "QUANTIZE")
			if t == nil {
				t = float(op.Outputs, name == "DEQUANTIZE")
			}
			if t != nil {
				bad = append(bad, fmt.Sprintf("subgraph %d operator %d %s has %v tensor %q", si, op.Index, name, t.DType, t.Name))
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	more := ""
	if len(bad) > 5 {
		more = fmt.Sprintf(" (and %d more)", len(bad)-5)
		bad = bad[:5]
	}
	return fmt.Errorf("delegate edgetpu needs a full-int8 model (quantize it with a representative dataset, or pass one with --tflite): %s%s", strings.Join(bad, "; "), more)
}

// IsEdgeTPUCompiled reports whether the model already holds an Edge TPU
// custom operator.
func IsEdgeTPUCompiled(model []byte) bool {
	m, err := tflite.Read(model)
	if err != nil {
		return false
	}
	for _, c := range m.OperatorCodes {
		if c.Custom == EdgeTPUCustomOp {
			return true
		}
	}
	return false
}

// EdgeTPUCompile is what edgetpu_compiler reported about a model.
type EdgeTPUCompile struct {
	CompilerVersion string        `json:"compiler_version"`
	CompileTime     time.Duration `json:"compile_time_ns,omitempty"`
	InputModel      string        `json:"input_model,omitempty"`
	OutputModel     string        `json:"output_model,omitempty"`
	InputBytes      int64         `json:"input_bytes,omitempty"`
	OutputBytes     int64         `json:"output_bytes,omitempty"`
	// On-chip memory used and left for caching parameters, and off-chip
	// memory used for streaming the parameters that did not fit.
	OnChipUsedBytes      int64 `json:"on_chip_used_bytes"`
	OnChipRemainingBytes int64 `json:"on_chip_remaining_bytes"`
	OffChipUsedBytes     int64 `json:"off_chip_used_bytes"`
	Subgraphs            int   `json:"edgetpu_subgraphs"`
	TotalOps             int   `json:"total_ops"`
	OpsOnTPU             int   `json:"ops_on_tpu"`
	OpsOnCPU             int   `json:"ops_on_cpu"`
	// Operators is the per-operator table, one row per (operator, status).
	Operators []EdgeTPUOp `json:"operators"`
}

// EdgeTPUOp is one row of the compiler's operator table.
type EdgeTPUOp struct {
	Op     string `json:"op"`
	Count  int    `json:"count"`
	Status string `json:"status"`
	OnTPU  bool   `json:"on_tpu"`
}

// MappedStatus is the table status of operators that run on the Edge TPU.
const MappedStatus = "Mapped to Edge TPU"

var (
	opRowRE = regexp.MustCompile(`^([A-Z][A-Z0-9_]*)\s+(\d+)\s+(\S.*?)\s*$`)
	sizeRE  = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*(B|KiB|MiB|GiB)$`)
	msRE    = regexp.MustCompile(`compiled successfully in (\d+) ms`)
)

// ParseEdgeTPULog parses edgetpu_compiler's console output (what `-s`
// prints: the summary lines and the operator table). A log that reports a
// failed compilation gives an error quoting the compiler.
func ParseEdgeTPULog(text string) (*EdgeTPUCompile, error) {
	c := &EdgeTPUCompile{}
	var sawSummary, sawTPUCount, inTable bool
	var failure []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if inTable {
			if m := opRowRE.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[2])
				c.Operators = append(c.Operators, EdgeTPUOp{Op: m[1], Count: n, Status: m[3], OnTPU: m[3] == MappedStatus})
				continue
			}
		}
		key, val, hasColon := strings.Cut(line, ":")
		val = strings.TrimSpace(val)
		var err error
		switch {
		case strings.HasPrefix(line, "Edge TPU Compiler version "):
			c.CompilerVersion = strings.TrimPrefix(line, "Edge TPU Compiler version ")
		case msRE.MatchString(line):
			ms, _ := strconv.Atoi(msRE.FindStringSubmatch(line)[1])
			c.CompileTime = time.Duration(ms) * time.Millisecond
			sawSummary = true
		case strings.HasPrefix(line, "Operator") && strings.Contains(line, "Count") && strings.Contains(line, "Status"):
			inTable = true
		case hasColon && key == "Input model":
			c.InputModel = val
		case hasColon && key == "Output model":
			c.OutputModel = val
		case hasColon && key == "Input size":
			c.InputBytes, err = parseSize(val)
		case hasColon && key == "Output size":
			c.OutputBytes, err = parseSize(val)
		case hasColon && key == "On-chip memory used for caching model parameters":
			c.OnChipUsedBytes, err = parseSize(val)
		case hasColon && key == "On-chip memory remaining for caching model parameters":
			c.OnChipRemainingBytes, err = parseSize(val)
		case hasColon && key == "Off-chip memory used for streaming uncached model parameters":
			c.OffChipUsedBytes, err = parseSize(val)
		case hasColon && key == "Number of Edge TPU subgraphs":
			c.Subgraphs, err = strconv.Atoi(val)
		case hasColon && key == "Total number of operations":
			c.TotalOps, err = strconv.Atoi(val)
		case hasColon && key == "Number of operations that will run on Edge TPU":
			c.OpsOnTPU, err = strconv.Atoi(val)
			sawTPUCount = true
		case hasColon && key == "Number of operations that will run on CPU":
			c.OpsOnCPU, err = strconv.Atoi(val)
		case strings.Contains(line, "ERROR") || strings.Contains(line, "Internal compiler error") ||
			strings.Contains(line, "Model not compiled") || strings.HasPrefix(line, "Compilation failed"):
			failure = append(failure, line)
		}
		if err != nil {
			return nil, fmt.Errorf("edgetpu_compiler log: %q: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("edgetpu_compiler log: %w", err)
	}
	if len(failure) > 0 && !sawSummary {
		return nil, fmt.Errorf("edgetpu_compiler failed: %s", strings.Join(failure, " / "))
	}
	if !sawSummary {
		return nil, errors.New("edgetpu_compiler log: no \"Model compiled successfully\" line: not a compiler log")
	}
	if !sawTPUCount {
		// Everything mapped: the compiler prints no split, so count it.
		for _, op := range c.Operators {
			if op.OnTPU {
				c.OpsOnTPU += op.Count
			}
		}
		c.OpsOnCPU = c.TotalOps - c.OpsOnTPU
	}
	return c, nil
}

// parseSize parses the compiler's sizes: "6.00MiB", "41.75KiB", "0.00B".
func parseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("size %q: want a number and B, KiB, MiB or GiB", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, err
	}
	mult := map[string]float64{"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[m[2]]
	return int64(v*mult + 0.5), nil
}

// CompileEdgeTPU runs edgetpu_compiler (which must be on PATH) on model
// and returns the compiled model and the parsed report. It returns
// exec.ErrNotFound (wrapped) when the compiler is not installed.
func CompileEdgeTPU(ctx context.Context, model []byte) ([]byte, *EdgeTPUCompile, error) {
	bin, err := exec.LookPath("edgetpu_compiler")
	if err != nil {
		return nil, nil, fmt.Errorf("edgetpu_compiler: %w", err)
	}
	dir, err := os.MkdirTemp("", "edgeval-edgetpu")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "model.tflite")
	if err := os.WriteFile(in, model, 0o644); err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "-s", "-o", dir, in)
	out, err := cmd.CombinedOutput()
	rep, perr := ParseEdgeTPULog(string(out))
	if err != nil || perr != nil {
		return nil, nil, fmt.Errorf("edgetpu_compiler: %v %v: %s", err, perr, strings.TrimSpace(string(out)))
	}
	compiled, err := os.ReadFile(filepath.Join(dir, "model_edgetpu.tflite"))
	if err != nil {
		return nil, nil, fmt.Errorf("edgetpu_compiler output: %w", err)
	}
	return compiled, rep, nil
}
