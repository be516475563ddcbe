package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kernelPaths lists the kernel sets to test: always pure Go, plus assembly
// when this CPU runs it.
func kernelPaths(t testing.TB) map[string]kernels {
	t.Helper()
	paths := map[string]kernels{"go": goKernels}
	if HasAsm() {
		paths["asm"] = asmKernels
	}
	return paths
}

// withKernels runs f with ks as the active kernel set.
func withKernels(ks kernels, f func()) {
	saved := active
	active = ks
	defer func() { active = saved }()
	f()
}

// gemmCase is one Sgemm call: shape, flags, scalars and leading-dimension
// padding (extra elements per row beyond the minimum).
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	padA, padB     int
	padC           int
}

func (g gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,alpha=%g,beta=%g,pad=%d/%d/%d",
		g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.beta, g.padA, g.padB, g.padC)
}

// operands holds the inputs of a case, C's padding filled with a sentinel
// that must survive the call.
type operands struct {
	a, b, c       []float32
	lda, ldb, ldc int
}

const sentinel = float32(-12345.5)

func makeOperands(g gemmCase, rng *rand.Rand) operands {
	rowsA, colsA := g.m, g.k
	if g.transA {
		rowsA, colsA = g.k, g.m
	}
	rowsB, colsB := g.k, g.n
	if g.transB {
		rowsB, colsB = g.n, g.k
	}
	o := operands{lda: max(1, colsA+g.padA), ldb: max(1, colsB+g.padB), ldc: max(1, g.n+g.padC)}
	o.a = randSlice(rng, rowsA*o.lda)
	o.b = randSlice(rng, rowsB*o.ldb)
	o.c = make([]float32, g.m*o.ldc)
	for i := range o.c {
		o.c[i] = sentinel
	}
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.n; j++ {
			if g.beta == 0 {
				o.c[i*o.ldc+j] = float32(math.NaN()) // must not be read
			} else {
				o.c[i*o.ldc+j] = rng.Float32()*2 - 1
			}
		}
	}
	return o
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// naive computes the expected C in float64 and, per element, an error bound
// proportional to K: (k+2)·ε₃₂·(|alpha|·Σ|a||b| + |beta·c|).
func naive(g gemmCase, o operands) (want, bound []float64) {
	want = make([]float64, g.m*g.n)
	bound = make([]float64, g.m*g.n)
	at := func(i, p int) float64 {
		if g.transA {
			return float64(o.a[p*o.lda+i])
		}
		return float64(o.a[i*o.lda+p])
	}
	bt := func(p, j int) float64 {
		if g.transB {
			return float64(o.b[j*o.ldb+p])
		}
		return float64(o.b[p*o.ldb+j])
	}
	const eps = 1.0 / (1 << 23)
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.n; j++ {
			var s, sa float64
			for p := 0; p < g.k; p++ {
				s += at(i, p) * bt(p, j)
				sa += math.Abs(at(i, p) * bt(p, j))
			}
			v := float64(g.alpha) * s
			mag := math.Abs(float64(g.alpha)) * sa
			if g.beta != 0 {
				cv := float64(g.beta) * float64(o.c[i*o.ldc+j])
				v += cv
				mag += math.Abs(cv)
			}
			want[i*g.n+j] = v
			bound[i*g.n+j] = float64(g.k+2)*eps*mag + 1e-30
		}
	}
	return want, bound
}

// checkResult asserts C matches the reference inside the m×n region and that
// the padding still holds the sentinel.
func checkResult(t testing.TB, g gemmCase, o operands, want, bound []float64) {
	t.Helper()
	bad := 0
	for i := 0; i < g.m; i++ {
		for j := 0; j < o.ldc; j++ {
			got := o.c[i*o.ldc+j]
			if j >= g.n {
				if got != sentinel {
					t.Errorf("%v: C[%d][%d] = %g written past column n", g, i, j, got)
					bad++
				}
				continue
			}
			w, e := want[i*g.n+j], bound[i*g.n+j]
			if !(math.Abs(float64(got)-w) <= e) {
				t.Errorf("%v: C[%d][%d] = %g, want %g ± %g", g, i, j, got, w, e)
				bad++
			}
			if bad > 5 {
				t.Fatalf("%v: too many mismatches", g)
			}
		}
	}
}

// runCase runs g through Sgemm (and, when packed, PackB + SgemmPacked) and
// checks the result.
func runCase(t testing.TB, g gemmCase, packed bool, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, uint64(g.m*131+g.n*17+g.k)))
	o := makeOperands(g, rng)
	want, bound := naive(g, o)
	if packed {
		pb := PackB(g.transB, g.k, g.n, o.b, o.ldb)
		SgemmPacked(g.transA, g.m, g.alpha, o.a, o.lda, pb, g.beta, o.c, o.ldc)
	} else {
		Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, o.a, o.lda, o.b, o.ldb, g.beta, o.c, o.ldc)
	}
	checkResult(t, g, o, want, bound)
}

// testShapes covers degenerate, odd, tall-skinny, tile-edge, block-edge and
// the convolution shapes of the benchmarks.
var testShapes = [][3]int{ // m, n, k
	{1, 1, 1}, {1, 1, 7}, {2, 3, 1}, {3, 5, 7}, {5, 9, 3}, {6, 16, 4}, {7, 17, 5},
	{12, 8, 9}, {13, 8, 9}, {11, 7, 13}, {12, 24, 33}, {17, 31, 29}, {25, 40, 1},
	{1, 100, 50}, {100, 1, 50}, {300, 3, 20}, {3, 300, 20}, {64, 64, 64}, {65, 65, 65},
	{37, 130, 300}, {50, 520, 70}, {490, 20, 260}, {97, 33, 513},
	// Convolution shapes (M = H·W, N = C_out, K = kh·kw·C_in).
	{48 * 48, 8, 27}, {48 * 48, 16, 8}, {24 * 24, 32, 16}, {12 * 12, 64, 64}, {3 * 3, 256, 256},
	{1024, 16, 27}, {1024, 16, 144}, {256, 32, 144}, {64, 64, 288},
}

func TestSgemm(t *testing.T) {
	scalars := [][2]float32{{1, 0}, {1, 1}, {0.5, -2}, {-1.5, 0}}
	for name, ks := range kernelPaths(t) {
		t.Run(name, func(t *testing.T) {
			withKernels(ks, func() {
				for si, s := range testShapes {
					for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
						sc := scalars[(si+btoi(tr[0])+2*btoi(tr[1]))%len(scalars)]
						for _, pad := range []int{0, 3} {
							g := gemmCase{transA: tr[0], transB: tr[1], m: s[0], n: s[1], k: s[2],
								alpha: sc[0], beta: sc[1], padA: pad, padB: 2 * pad, padC: pad}
							runCase(t, g, false, 1)
						}
					}
				}
			})
		})
	}
}

func TestSgemmPacked(t *testing.T) {
	for name, ks := range kernelPaths(t) {
		t.Run(name, func(t *testing.T) {
			withKernels(ks, func() {
				for si, s := range testShapes {
					for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
						g := gemmCase{transA: tr[0], transB: tr[1], m: s[0], n: s[1], k: s[2],
							alpha: 1, beta: float32(si % 2), padA: 1, padB: 2, padC: si % 3}
						runCase(t, g, true, 2)
					}
				}
			})
		})
	}
}

// TestSgemmAlphaZero checks the BLAS shortcuts: alpha = 0 or k = 0 scale C by
// beta without reading A or B (which are nil here), and beta = 0 clears NaNs.
func TestSgemmAlphaZero(t *testing.T) {
	tests := []struct {
		name        string
		k           int
		alpha, beta float32
		want        float32
	}{
		{"alpha0 beta2", 4, 0, 2, 6},
		{"alpha0 beta0 clears", 4, 0, 0, 0},
		{"k0 beta1 keeps", 0, 1, 1, 3},
		{"k0 beta0 clears", 0, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := []float32{3, 3, 3, 3, 3, 3}
			a := make([]float32, 2*max(tt.k, 1))
			b := make([]float32, max(tt.k, 1)*3)
			for i := range a {
				a[i] = float32(math.NaN()) // unread
			}
			Sgemm(false, false, 2, 3, tt.k, tt.alpha, a, max(tt.k, 1), b, 3, tt.beta, c, 3)
			for i, v := range c {
				assert.Equal(t, tt.want, v, "C[%d]", i)
			}
		})
	}
}

func TestSgemmPanicsOnBadArguments(t *testing.T) {
	a := make([]float32, 12)
	b := make([]float32, 12)
	c := make([]float32, 12)
	tests := []struct {
		name string
		call func()
		msg  string
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, 1, a, 2, b, 2, 0, c, 2) }, "negative dimension"},
		{"lda too small", func() { Sgemm(false, false, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2) }, "leading dimension of A is 2, want at least 3"},
		{"ldb too small transposed", func() { Sgemm(false, true, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2) }, "leading dimension of B is 2, want at least 3"},
		{"C too short", func() { Sgemm(false, false, 4, 4, 2, 1, a, 2, b, 4, 0, c, 4) }, "C has 12 elements, want at least 16"},
		{"A too short", func() { Sgemm(false, false, 7, 1, 2, 1, a, 2, b, 1, 0, c, 1) }, "A has 12 elements, want at least 14"},
		{"overflow", func() { Sgemm(false, false, 2, 1, 1, 1, a, math.MaxInt, b, 1, 0, c, 1) }, "overflows int"},
		{"nil packed", func() { SgemmPacked(false, 1, 1, a, 1, nil, 0, c, 1) }, "nil PackedB"},
		{"packed C too short", func() { SgemmPacked(false, 3, 1, a, 4, PackB(false, 4, 5, make([]float32, 20), 5), 0, c, 5) }, "C has 12 elements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r, "expected a panic")
				assert.Contains(t, fmt.Sprint(r), tt.msg)
			}()
			tt.call()
		})
	}
}

func TestPackedBDims(t *testing.T) {
	pb := PackB(true, 27, 8, make([]float32, 8*27), 27)
	assert.Equal(t, 27, pb.K())
	assert.Equal(t, 8, pb.N())
	empty := PackB(false, 0, 5, nil, 5)
	c := []float32{1, 2, 3, 4, 5}
	SgemmPacked(false, 1, 1, nil, 1, empty, 0, c, 5)
	assert.Equal(t, []float32{0, 0, 0, 0, 0}, c, "k = 0 with beta = 0 clears C")
}

func btoi(v bool) int {
	if v {
		return 1
	}
	return 0
}

// TestSgemmConcurrent runs differently shaped products from several
// goroutines at once (shared scratch pool, shared PackedB).
func TestSgemmConcurrent(t *testing.T) {
	shapes := testShapes[len(testShapes)-9:]
	pbs := make([]*PackedB, len(shapes))
	ops := make([]operands, len(shapes))
	cases := make([]gemmCase, len(shapes))
	wants := make([][]float64, len(shapes))
	bounds := make([][]float64, len(shapes))
	for i, s := range shapes {
		cases[i] = gemmCase{transB: i%2 == 0, m: s[0], n: s[1], k: s[2], alpha: 1}
		ops[i] = makeOperands(cases[i], rand.New(rand.NewPCG(3, uint64(i))))
		pbs[i] = PackB(cases[i].transB, s[2], s[1], ops[i].b, ops[i].ldb)
		wants[i], bounds[i] = naive(cases[i], ops[i])
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 5; rep++ {
				for i := range shapes {
					g, o, want, bound := cases[i], ops[i], wants[i], bounds[i]
					c1 := make([]float32, len(o.c))
					c2 := make([]float32, len(o.c))
					Sgemm(g.transA, g.transB, g.m, g.n, g.k, 1, o.a, o.lda, o.b, o.ldb, 0, c1, o.ldc)
					SgemmPacked(g.transA, g.m, 1, o.a, o.lda, pbs[i], 0, c2, o.ldc)
					for e := range want {
						r, j := e/g.n, e%g.n
						for _, c := range [][]float32{c1, c2} {
							if got := float64(c[r*o.ldc+j]); !(math.Abs(got-want[e]) <= bound[e]) {
								errs[w] = fmt.Errorf("worker %d %v: C[%d][%d] = %g, want %g", w, g, r, j, got, want[e])
								return
							}
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
}
