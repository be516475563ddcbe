package torch

import (
	"archive/zip"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

var benchMB = flag.Int("torch.bench-mb", 32, "MB of float32 storages in the generated state_dict of BenchmarkReadFile (e.g. 512)")

// writeStateDict writes a torch.save-format zip (as torch 2.x writes it:
// stored records, one per storage) holding n float32 tensors of elems
// elements each, named layer<i>.weight.
func writeStateDict(tb testing.TB, path string, n, elems int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	z := zip.NewWriter(f)
	str := func(s string) []byte {
		b := []byte{'X', 0, 0, 0, 0}
		binary.LittleEndian.PutUint32(b[1:], uint32(len(s)))
		return append(b, s...)
	}
	i32 := func(v int) []byte {
		b := []byte{'J', 0, 0, 0, 0}
		binary.LittleEndian.PutUint32(b[1:], uint32(v))
		return b
	}
	p := []byte("\x80\x02ccollections\nOrderedDict\n)R(")
	for i := range n {
		p = append(p, str(fmt.Sprintf("layer%d.weight", i))...)
		p = append(p, "ctorch._utils\n_rebuild_tensor_v2\n(("...)
		p = append(p, str("storage")...)
		p = append(p, "ctorch\nFloatStorage\n"...)
		p = append(p, str(fmt.Sprint(i))...)
		p = append(p, str("cpu")...)
		p = append(p, i32(elems)...)
		p = append(p, "tQ"...)
		p = append(p, i32(0)...)
		p = append(p, i32(elems)...)
		p = append(p, 0x85)
		p = append(p, i32(1)...)
		p = append(p, 0x85, 0x89)
		p = append(p, "ccollections\nOrderedDict\n)RtR"...)
	}
	p = append(p, "u."...)
	write := func(name string, data []byte) {
		w, err := z.CreateHeader(&zip.FileHeader{Name: "archive/" + name, Method: zip.Store})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			tb.Fatal(err)
		}
	}
	write("data.pkl", p)
	write("byteorder", []byte("little"))
	buf := make([]byte, elems*4)
	for i := range n {
		for j := 0; j < elems; j++ {
			binary.LittleEndian.PutUint32(buf[j*4:], uint32(i*elems+j))
		}
		write(fmt.Sprintf("data/%d", i), buf)
	}
	if err := z.Close(); err != nil {
		tb.Fatal(err)
	}
}

func TestGeneratedStateDict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sd.pt")
	writeStateDict(t, path, 3, 10)
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != 3 || f.Tensors[2].Name != "layer2.weight" || binary.LittleEndian.Uint32(f.Tensors[2].Tensor.Data[4:]) != 21 {
		t.Fatalf("got %+v", f.Tensors)
	}
}

// BenchmarkReadFile compares ReadFile on a state_dict of -torch.bench-mb MB
// of float32 storages (64 tensors) with reading the same file's bytes
// (ReadRaw). It reports the heap allocated per load relative to the tensor
// bytes (alloc-ratio): storages are read straight into the tensors' byte
// slices, with no per-element boxing.
func BenchmarkReadFile(b *testing.B) {
	const n = 64
	elems := *benchMB << 20 / 4 / n
	path := filepath.Join(b.TempDir(), "sd.pt")
	writeStateDict(b, path, n, elems)
	tensorBytes := float64(n * elems * 4)
	b.Run("ReadFile", func(b *testing.B) {
		b.SetBytes(int64(tensorBytes))
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		for b.Loop() {
			f, err := ReadFile(path)
			if err != nil || len(f.Tensors) != n {
				b.Fatal(err)
			}
		}
		runtime.ReadMemStats(&ms1)
		b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N)/tensorBytes, "alloc-ratio")
	})
	b.Run("ReadRaw", func(b *testing.B) {
		b.SetBytes(int64(tensorBytes))
		for b.Loop() {
			fh, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, int(tensorBytes)+1<<20)
			if _, err := io.ReadFull(fh, buf); err != nil && err != io.ErrUnexpectedEOF {
				b.Fatal(err)
			}
			fh.Close()
		}
	})
}
