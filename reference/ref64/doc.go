// Package ref64 evaluates a graph.Graph in float64: a second, independent
// implementation of every op package reference evaluates, written for
// accuracy and readability instead of speed.
//
// It has two uses. First, it measures a model's float32 noise floor: the
// float32 reference drifts from the exact result by an amount that grows with
// the model's depth (InceptionV3 drifts by more than the fixed tolerance of
// 1e-4 of the output range while being correct), and Drift reports, per
// output, how far the float32 reference is from this float64 evaluation of
// the same graph, so a tolerance can be set from the model's own noise.
// Second, it cross-checks package reference: if the two disagree by more
// than float32 noise, one of them is wrong.
//
// Every computation is in float64: inputs and weights are widened from their
// stored dtype (exactly), sums accumulate in float64, and transcendental
// functions are package math's float64 functions. Scalar op parameters stored
// as float32 in the graph (epsilons, slopes, clip bounds) are widened
// exactly, since the framework computes with those float32 values too.
//
// ref64 shares no kernel with package reference: every op is a plain loop
// of its own over flat []float64 slices, spatial ops computing channels-last
// (NCHW data is transposed on the way in and out). Only the graph package's
// definitions are shared: op structs, shape inference and ConvGeom (how
// padding and output sizes resolve), which fix what the graph means. An op
// kind without a kernel here is an *UnsupportedError naming each such node;
// nothing is skipped.
//
// Prepare checks a graph and widens its constants once into a Program
// (PrepareWith first refuses, with a *budget.Error, a graph whose Footprint
// exceeds a memory budget);
// Program.Run evaluates one sample, Program.RunBatch many samples on all
// cores, and Program.Drift compares float32 outputs against it.
package ref64
