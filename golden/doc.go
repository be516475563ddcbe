// Package golden holds golden input and output sets and what is judged from
// them: loading user inputs from .npy/.npz files and splitting them into
// samples, seeded random inputs, stacking per-sample outputs, comparison
// metrics and the tolerance policy, the stable result type (Result, with a
// schema version), and the history records and regression rules that
// package history stores and 'validate history regressions' applies.
package golden
