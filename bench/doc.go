// Package bench owns timing: Loop is the one timed loop of the project
// (warm-up runs, every sample once with its outputs kept, more runs cycling
// the samples until a count or a minimum time is reached, the first
// inference reported apart), and Summarize the one latency summary
// (min, p50, p90, p99, max, mean, std). `validate run`, `validate MODEL`
// and the reference's per-sample timing all use them. The benchmarks of
// this package (BenchmarkConvert, BenchmarkInference) time the converter
// and the runtimes on the anchor models.
package bench
