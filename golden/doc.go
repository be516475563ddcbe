// Package golden holds golden sets: the inputs a validation runs on and the
// outputs it expects. Inputs come from .npy/.npz files (LoadInputs, split
// into samples along the first axis; OpenInputs reads the same samples one
// at a time, memory flat in their number), from images (OpenDataset: a
// labelled ImageFolder tree or an .npz of images x and labels y;
// OpenImages: a folder of images or one image; decoded, checked and
// preprocessed as the frameworks do — Preprocess, parsed from its text
// form by PreprocessText — one sample at a time)
// or are seeded random samples (RandomInputs); the framework's own outputs
// on those inputs (LoadExpected, the --expected file) are the third witness
// against which the Go reference is checked; Gather joins per-sample
// tensors back into one array. What is judged from them lives elsewhere:
// metrics, accuracy, the tolerance policy and results in package compare,
// stored results and regressions in package history.
package golden
