// Package compare says what "the same" means: the metrics of an output
// pair (max and mean abs error, RMSE, relative error, cosine, PSNR, NaN/Inf
// counts, top-k agreement), the tolerance policy per precision (scaled to
// the output's range, raised to the model's own float32 noise floor), the
// one function that judges an output pair (Output: used by the validation
// pipeline, locate and the corpus alike), the stable result type of a
// validation (Result, with a schema version) and divergences.
package compare
