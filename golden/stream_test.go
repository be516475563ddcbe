package golden

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/internal/zipcheck"
	"github.com/edgeval/edgeval/tensor"
)

// writeZip writes arrays as an .npz with the given method (zip.Store as
// numpy.savez, zip.Deflate as numpy.savez_compressed).
func writeZip(t *testing.T, path string, method uint16, arrays ...tensor.Named) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, a := range arrays {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: a.Name + ".npy", Method: method})
		require.NoError(t, err)
		require.NoError(t, tensor.WriteNPY(w, a.Tensor))
	}
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

// seq returns a tensor of dtype and shape holding 0, 1, 2, ... (scaled).
func seq(dt tensor.DType, shape []int, scale float64) *tensor.Tensor {
	t := tensor.New(dt, shape)
	for i := range t.NumElements() {
		t.SetFloat64(i, float64(i%251)*scale)
	}
	return t
}

// npyRaw writes an .npy with a header of our choosing (byte order, Fortran
// order) over raw data.
func npyRaw(t *testing.T, path, descr string, fortran bool, shape []int, data []byte) {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	f := "False"
	if fortran {
		f = "True"
	}
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': (%s,), }\n", descr, f, strings.Join(dims, ", "))
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	require.NoError(t, binary.Write(&b, binary.LittleEndian, uint16(len(hdr))))
	b.WriteString(hdr)
	b.Write(data)
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
}

// TestOpenInputsMatchesLoadInputs: every sample the stream gives equals
// LoadInputs's, over .npy and .npz files (stored and deflated members,
// inputs by name, arr_i and position, dtype conversion, runs of several
// batch rows, big-endian and Fortran-order data, a real numpy-written
// .npz from the corpus), read in order and out of order.
func TestOpenInputsMatchesLoadInputs(t *testing.T) {
	dir := t.TempDir()
	f32 := func(name string, shape ...int) InputSpec {
		return InputSpec{Name: name, Shape: shape, DType: tensor.Float32}
	}
	file := func(name string) string { return filepath.Join(dir, name) }

	require.NoError(t, tensor.WriteNPYFile(file("one.npy"), seq(tensor.Float32, []int{7, 2, 3}, 0.5)))
	writeZip(t, file("stored.npz"), zip.Store,
		tensor.Named{Name: "b", Tensor: seq(tensor.Float64, []int{5, 4}, 0.25)},
		tensor.Named{Name: "a", Tensor: seq(tensor.Float32, []int{5, 1, 3}, 1)})
	writeZip(t, file("deflated.npz"), zip.Deflate,
		tensor.Named{Name: "a", Tensor: seq(tensor.Float32, []int{9, 2, 5}, 1)},
		tensor.Named{Name: "idx", Tensor: seq(tensor.Int32, []int{9, 3}, 1)})
	writeZip(t, file("positional.npz"), zip.Store,
		tensor.Named{Name: "arr_0", Tensor: seq(tensor.Float32, []int{6, 3}, 1)},
		tensor.Named{Name: "x", Tensor: seq(tensor.Float32, []int{6, 2}, 1)})
	be := seq(tensor.Float32, []int{4, 3}, 1.5)
	swapped := bytes.Clone(be.Data)
	for i := 0; i < len(swapped); i += 4 {
		swapped[i], swapped[i+1], swapped[i+2], swapped[i+3] = swapped[i+3], swapped[i+2], swapped[i+1], swapped[i]
	}
	npyRaw(t, file("bigendian.npy"), ">f4", false, []int{4, 3}, swapped)
	npyRaw(t, file("fortran.npy"), "<f4", true, []int{4, 3}, seq(tensor.Float32, []int{3, 4}, 1).Data)
	fortranMember, err := os.ReadFile(file("fortran.npy"))
	require.NoError(t, err)
	var fz bytes.Buffer
	zw := zip.NewWriter(&fz)
	w, err := zw.Create("f.npy")
	require.NoError(t, err)
	_, err = w.Write(fortranMember)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(file("fortran.npz"), fz.Bytes(), 0o644))
	real := filepath.Join(testutil.RepoRoot(t), "testdata/corpus/keras/conv2d_k3_same/expected.npz")

	tests := []struct {
		name  string
		path  string
		specs []InputSpec
	}{
		{"npy", file("one.npy"), []InputSpec{f32("x", 2, 3)}},
		{"npy batch rows", file("one.npy"), []InputSpec{f32("x", 1, 2, 3)}},
		{"stored by name, float64 data", file("stored.npz"), []InputSpec{f32("a", 1, 3), f32("b", 4)}},
		{"deflated, int data", file("deflated.npz"), []InputSpec{f32("a", 2, 5), {Name: "idx", Shape: []int{3}, DType: tensor.Int64}}},
		{"deflated, runs of 3 rows", file("deflated.npz"), []InputSpec{f32("a", 3, 2, 5), {Name: "idx", Shape: []int{3, 3}, DType: tensor.Int32}}},
		{"arr_0 and position", file("positional.npz"), []InputSpec{f32("first", 3), f32("second", 2)}},
		{"big-endian", file("bigendian.npy"), []InputSpec{f32("x", 3)}},
		{"fortran npy", file("fortran.npy"), []InputSpec{f32("x", 3)}},
		{"fortran npz", file("fortran.npz"), []InputSpec{f32("x", 3)}},
		{"numpy-written npz", real, []InputSpec{f32("in_0", 1, 9, 11, 3)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := LoadInputs(tc.path, tc.specs)
			require.NoError(t, err)
			s, err := OpenInputs(tc.path, tc.specs)
			require.NoError(t, err)
			defer s.Close()
			require.Equal(t, len(want), s.Len())
			require.Positive(t, s.Len())
			order := make([]int, 0, 2*s.Len())
			for i := range s.Len() {
				order = append(order, i)
			}
			for i := s.Len() - 1; i >= 0; i -= 2 { // backwards: a deflated member is reopened
				order = append(order, i)
			}
			for _, i := range order {
				got, err := s.Sample(i)
				require.NoError(t, err)
				require.Len(t, got, len(tc.specs))
				for k := range got {
					assert.Equal(t, want[i][k].DType, got[k].DType, "sample %d input %d", i, k)
					assert.Equal(t, want[i][k].Shape, got[k].Shape, "sample %d input %d", i, k)
					assert.Equal(t, want[i][k].Data, got[k].Data, "sample %d input %d", i, k)
				}
			}
			_, err = s.Sample(s.Len())
			assert.ErrorContains(t, err, "out of range")
		})
	}
}

// TestOpenInputsRefuses: what LoadInputs refuses, the stream refuses when
// it is opened, with the same typed errors; a corrupted member is a
// *zipcheck.Error naming it even though no sample was read.
func TestOpenInputsRefuses(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.npz")
	writeZip(t, good, zip.Store, tensor.Named{Name: "x", Tensor: seq(tensor.Float32, []int{50, 4}, 1)})
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	bad := bytes.Clone(data)
	bad[200] ^= 0x40 // inside the array's data
	corrupt := filepath.Join(dir, "corrupt.npz")
	require.NoError(t, os.WriteFile(corrupt, bad, 0o644))
	_, err = OpenInputs(corrupt, []InputSpec{{Name: "x", Shape: []int{4}, DType: tensor.Float32}})
	var ze *zipcheck.Error
	require.ErrorAs(t, err, &ze)
	assert.ErrorIs(t, err, zipcheck.ErrCorrupt)
	assert.Equal(t, "x.npy", ze.Member)
	assert.Contains(t, err.Error(), corrupt)
	assert.NotEqual(t, crc32.ChecksumIEEE(data), crc32.ChecksumIEEE(bad))

	_, err = OpenInputs(good, []InputSpec{{Name: "x", Shape: []int{5}, DType: tensor.Float32}})
	var se *ShapeError
	require.ErrorAs(t, err, &se)
	_, err = OpenInputs(good, []InputSpec{{Name: "y", Shape: []int{4}, DType: tensor.Float32}, {Name: "z", Shape: []int{4}, DType: tensor.Float32}})
	require.ErrorAs(t, err, &se)
	assert.Contains(t, err.Error(), `no array named "y"`)
	_, err = OpenInputs(good, []InputSpec{{Name: "x", Shape: []int{4}, DType: tensor.Int8}})
	require.ErrorAs(t, err, &se)

	trunc := filepath.Join(dir, "trunc.npy")
	require.NoError(t, tensor.WriteNPYFile(trunc, seq(tensor.Float32, []int{10, 4}, 1)))
	b, err := os.ReadFile(trunc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(trunc, b[:len(b)-3], 0o644))
	_, err = OpenInputs(trunc, []InputSpec{{Name: "x", Shape: []int{4}, DType: tensor.Float32}})
	assert.ErrorContains(t, err, "truncated")
	_, err = OpenInputs(filepath.Join(dir, "x.csv"), nil)
	assert.Error(t, err)
}

// The memory test: an .npz of 80,000 samples of [24, 24, 3] float32
// (553 MB, as in the issue) written by streaming, never held.
const (
	bigSamples = 80000
	bigRow     = 24 * 24 * 3
)

// bigValue is element j of sample i of the big file.
func bigValue(i, j int) float32 { return float32((i*7+j*13)%1000) / 1000 }

// writeBigNPZ writes the big file row by row (a stored member, as
// numpy.savez writes it).
func writeBigNPZ(t *testing.T, path string) {
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw := zip.NewWriter(bw)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "image.npy", Method: zip.Store})
	require.NoError(t, err)
	hdr := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 24, 24, 3), }", bigSamples)
	hdr += strings.Repeat(" ", (64-(10+len(hdr)+1)%64)%64) + "\n"
	var pre bytes.Buffer
	pre.WriteString("\x93NUMPY\x01\x00")
	require.NoError(t, binary.Write(&pre, binary.LittleEndian, uint16(len(hdr))))
	pre.WriteString(hdr)
	_, err = w.Write(pre.Bytes())
	require.NoError(t, err)
	row := make([]byte, 4*bigRow)
	for i := range bigSamples {
		for j := range bigRow {
			binary.LittleEndian.PutUint32(row[4*j:], math.Float32bits(bigValue(i, j)))
		}
		_, err = w.Write(row)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, bw.Flush())
}

// TestStreamChild is run by TestOpenInputsMemoryFlat in a child process:
// it streams every sample of the big file, keeping one output value per
// sample, checks each, and prints its peak RSS before and after.
func TestStreamChild(t *testing.T) {
	path := os.Getenv("EDGEVAL_STREAM_CHILD")
	if path == "" {
		t.Skip("run by TestOpenInputsMemoryFlat")
	}
	before := testutil.PeakRSS(t)
	s, err := OpenInputs(path, []InputSpec{{Name: "image", Shape: []int{1, 24, 24, 3}, DType: tensor.Float32}})
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, bigSamples, s.Len())
	n, err := strconv.Atoi(os.Getenv("EDGEVAL_STREAM_SAMPLES"))
	require.NoError(t, err)
	outputs := make([]float32, 0, n) // what a model's [1,1] output per sample would keep
	bad := 0
	for i := range n {
		x, err := s.Sample(i)
		require.NoError(t, err)
		first, last := x[0].Float64(0), x[0].Float64(bigRow-1)
		if float32(first) != bigValue(i, 0) || float32(last) != bigValue(i, bigRow-1) {
			bad++
		}
		outputs = append(outputs, float32(first))
	}
	after := testutil.PeakRSS(t)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(outputs)
	runtime.KeepAlive(s)
	fmt.Printf("BEFORE %d\nAFTER %d\nLIVE %d\nBAD %d\nOUTPUTS %d\n", before, after, ms.HeapAlloc, bad, len(outputs))
}

// TestOpenInputsMemoryFlat: streaming the 80,000 samples of a 553 MB .npz
// raises the peak RSS of a process by what the Go runtime's heap needs
// between collections (6-20 MiB: each sample is garbage once used), not by
// the file's size (LoadInputs holds the whole file and a copy of it); what
// stays live after 80,000 samples exceeds what stays after 8,000 only by
// the outputs kept: memory is flat in the number of samples. Every sample
// is the one written.
func TestOpenInputsMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 553 MB file")
	}
	path := filepath.Join(t.TempDir(), "big.npz")
	writeBigNPZ(t, path)
	st, err := os.Stat(path)
	require.NoError(t, err)
	growth, live := map[int]int64{}, map[int]int64{}
	for _, n := range []int{bigSamples / 10, bigSamples} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStreamChild$", "-test.v")
		cmd.Env = append(os.Environ(), "EDGEVAL_STREAM_CHILD="+path, "EDGEVAL_STREAM_SAMPLES="+strconv.Itoa(n))
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		vals := map[string]int64{}
		for _, line := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(line, " "); ok && (k == "BEFORE" || k == "AFTER" || k == "LIVE" || k == "BAD" || k == "OUTPUTS") {
				vals[k], _ = strconv.ParseInt(v, 10, 64)
			}
		}
		require.Contains(t, vals, "AFTER", "%s", out)
		growth[n], live[n] = vals["AFTER"]-vals["BEFORE"], vals["LIVE"]
		t.Logf("file %d MiB: streaming %d samples of %d bytes: peak RSS %d KiB before opening, %d KiB after (growth %d KiB); live heap at the end %d KiB",
			st.Size()>>20, n, 4*bigRow, vals["BEFORE"]>>10, vals["AFTER"]>>10, growth[n]>>10, live[n]>>10)
		assert.Zero(t, vals["BAD"], "samples that differ from those written")
		assert.Equal(t, int64(n), vals["OUTPUTS"])
		assert.Less(t, growth[n], int64(32<<20), "peak RSS growth while streaming a %d MiB file", st.Size()>>20)
	}
	// What stays live grows only by the outputs kept (4 bytes a sample).
	assert.Less(t, live[bigSamples]-live[bigSamples/10], int64(4*bigSamples+(256<<10)), "live heap from 8,000 to 80,000 samples")
}
