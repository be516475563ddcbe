// Package reference evaluates a graph.Graph in float32 with the semantics of
// its source framework: each op computes in the layout its node says (NHWC
// for Keras, NCHW for PyTorch) with weights in the layout the node says, so
// the numbers are those the framework itself would give, within float32
// rounding. It is the float reference the converted .tflite is compared to.
//
// Prepare validates a graph once, converts every weight into the form its
// kernel wants (im2col GEMM panels, depthwise taps, BatchNorm scale and
// shift) and returns a Program; Program.Run then evaluates one set of inputs
// without further checks, Program.RunAll also returns every intermediate
// value by name (to locate the first layer where two runs diverge), and
// Program.RunBatch evaluates many samples on all cores, one goroutine per
// sample. Run is the one-shot form.
//
// One Run spreads its sample over PrepareOptions.Threads goroutines
// (default GOMAXPROCS; team.go): every convolution splits its output tiles
// (rows of output pixels, or of pixels of one sample, or output channels
// when a sample has few pixels) between them, each
// tile computed whole by one goroutine in the order one goroutine would
// use, so the outputs are the same bits for any number of threads
// (TestThreadsGiveSameBits). Footprint says, from shapes alone, how much memory a Program will
// hold (weights in the kernels' forms, and per concurrent run the fast
// plan's buffers and scratch); PrepareWith refuses a graph over a budget
// with a *budget.Error before converting anything.
//
// Run and RunBatch follow a fast plan (plan.go): a node whose output only a
// per-channel BatchNorm reads, and then only a ReLU or ReLU6, is run with
// both in its epilogue (one sgemm.Epilogue pass over a cache-hot chunk); a
// zero Pad of the spatial axes that only a convolution reads becomes that
// convolution's padding (padfuse.go); values share buffers once their
// readers have run. RunAll follows the full plan, every node into a buffer
// of its own. The same float32 operations run in the same order either way
// (the BatchNorm's product is rounded before its sum, never fused; a
// convolution's padding is summed as zeros read from its input), so Run's
// outputs are RunAll's bit for bit.
//
// NCHW (PyTorch) convolutions run on the NHWC kernels (layout.go): the
// input is transposed to NHWC, the output back, exact copies; in the fast
// plan values between such convolutions and element-wise steps stay in
// NHWC and are transposed only for a reader that needs NCHW. Their sums
// are in the NHWC kernels' order (kernel row, column, input channel).
//
// Every value is computed as float32 (integers, such as Gather indices, are
// carried as float32 and are exact up to 2^24). Sums accumulate in float32
// in the kernels' GEMMs, like TFLite; normalisations and softmax accumulate
// in float64, which is cheap there. ReLU, ReLU6, Clip and LeakyRelu run in
// float32 (min, max and one product round as their float64 forms do);
// the transcendental activations (sigmoid, tanh, SiLU, GELU, hard-swish,
// ...) are computed in float64 and rounded once, as a pass of their own.
//
// One file per op family holds the kernels, each a plain function over flat
// []float32 slices and explicit shapes, with its test beside it: conv.go,
// pool.go, dense.go, elementwise.go, activation.go, norm.go, shape.go,
// resize.go. The matrix products, the conv epilogues and the 3-wide
// depthwise rows run in internal/sgemm (Go assembly on amd64 with
// AVX2+FMA, pure Go elsewhere).
package reference
