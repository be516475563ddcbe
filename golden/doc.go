// Package golden holds golden input and output sets: loading user inputs from
// .npy/.npz files and splitting them into samples, seeded random inputs,
// stacking per-sample outputs, and (later) comparison metrics, tolerances and
// the results history.
package golden
