package torch

// nnClass describes a torch.nn layer class for --source: the arch op its
// forward is, and its constructor's parameters in order.
type nnClass struct {
	op     string   // arch op ("" for containers)
	params []string // constructor parameters, positional order
}

// nnClasses are the torch.nn classes a model source may construct.
var nnClasses = map[string]nnClass{
	"Linear":            {"Linear", []string{"in_features", "out_features", "bias", "device", "dtype"}},
	"Conv1d":            {"Conv1d", []string{"in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode", "device", "dtype"}},
	"Conv2d":            {"Conv2d", []string{"in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode", "device", "dtype"}},
	"ConvTranspose2d":   {"ConvTranspose2d", []string{"in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups", "bias", "dilation", "padding_mode", "device", "dtype"}},
	"BatchNorm1d":       {"BatchNorm1d", []string{"num_features", "eps", "momentum", "affine", "track_running_stats", "device", "dtype"}},
	"BatchNorm2d":       {"BatchNorm2d", []string{"num_features", "eps", "momentum", "affine", "track_running_stats", "device", "dtype"}},
	"LayerNorm":         {"LayerNorm", []string{"normalized_shape", "eps", "elementwise_affine", "bias", "device", "dtype"}},
	"PReLU":             {"PReLU", []string{"num_parameters", "init", "device", "dtype"}},
	"Embedding":         {"Embedding", []string{"num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type", "scale_grad_by_freq", "sparse", "_weight", "_freeze", "device", "dtype"}},
	"ReLU":              {"ReLU", []string{"inplace"}},
	"ReLU6":             {"ReLU6", []string{"inplace"}},
	"Sigmoid":           {"Sigmoid", nil},
	"Tanh":              {"Tanh", nil},
	"SiLU":              {"SiLU", []string{"inplace"}},
	"Hardswish":         {"Hardswish", []string{"inplace"}},
	"Hardsigmoid":       {"Hardsigmoid", []string{"inplace"}},
	"LeakyReLU":         {"LeakyReLU", []string{"negative_slope", "inplace"}},
	"ELU":               {"ELU", []string{"alpha", "inplace"}},
	"GELU":              {"GELU", []string{"approximate"}},
	"Hardtanh":          {"Hardtanh", []string{"min_val", "max_val", "inplace"}},
	"Identity":          {"Identity", nil},
	"Dropout":           {"Dropout", []string{"p", "inplace"}},
	"Dropout1d":         {"Dropout1d", []string{"p", "inplace"}},
	"Dropout2d":         {"Dropout2d", []string{"p", "inplace"}},
	"Softmax":           {"Softmax", []string{"dim"}},
	"LogSoftmax":        {"LogSoftmax", []string{"dim"}},
	"MaxPool2d":         {"MaxPool2d", []string{"kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"}},
	"AvgPool2d":         {"AvgPool2d", []string{"kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"}},
	"AdaptiveAvgPool2d": {"AdaptiveAvgPool2d", []string{"output_size"}},
	"AdaptiveMaxPool2d": {"AdaptiveMaxPool2d", []string{"output_size", "return_indices"}},
	"Flatten":           {"Flatten", []string{"start_dim", "end_dim"}},
	"Upsample":          {"Upsample", []string{"size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"}},
	"Sequential":        {"", nil},
	"ModuleList":        {"", []string{"modules"}},
}

// noneIsDefault are constructor and function arguments whose PyTorch
// default is None: an explicit None is left out of the step.
var noneIsDefault = map[string]bool{
	"stride": true, "padding_idx": true, "max_norm": true, "divisor_override": true, "size": true,
	"scale_factor": true, "align_corners": true, "recompute_scale_factor": true, "dim": true,
	"device": true, "dtype": true, "_weight": true,
}

// defaultArgs are arguments whose stated value equals PyTorch's default
// and that the arch op does not take: they are dropped (anything else
// stated is passed on and checked, or refused, by the op).
var defaultArgs = map[string]any{"norm_type": 2.0, "_freeze": false}

// fnSpec describes a torch.nn.functional / torch / Tensor method function
// of one tensor for --source: the arch op and its parameters after the
// input, in order.
type fnSpec struct {
	op     string
	params []string
	// flattenStart is the default start_dim (0 for torch.flatten and
	// Tensor.flatten, where nn.Flatten's is 1).
	dropout bool // the identity at inference when training is False
}

// tensorFns are the one-tensor functions, by name (F.relu, torch.relu,
// x.relu()).
var tensorFns = map[string]fnSpec{
	"relu":                  {op: "ReLU", params: []string{"inplace"}},
	"relu_":                 {op: "ReLU"},
	"relu6":                 {op: "ReLU6", params: []string{"inplace"}},
	"sigmoid":               {op: "Sigmoid"},
	"tanh":                  {op: "Tanh"},
	"silu":                  {op: "SiLU", params: []string{"inplace"}},
	"hardswish":             {op: "Hardswish", params: []string{"inplace"}},
	"hardsigmoid":           {op: "Hardsigmoid", params: []string{"inplace"}},
	"leaky_relu":            {op: "LeakyReLU", params: []string{"negative_slope", "inplace"}},
	"elu":                   {op: "ELU", params: []string{"alpha", "inplace"}},
	"gelu":                  {op: "GELU", params: []string{"approximate"}},
	"hardtanh":              {op: "Hardtanh", params: []string{"min_val", "max_val", "inplace"}},
	"softmax":               {op: "Softmax", params: []string{"dim"}},
	"log_softmax":           {op: "LogSoftmax", params: []string{"dim"}},
	"max_pool2d":            {op: "MaxPool2d", params: []string{"kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"}},
	"avg_pool2d":            {op: "AvgPool2d", params: []string{"kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"}},
	"adaptive_avg_pool2d":   {op: "AdaptiveAvgPool2d", params: []string{"output_size"}},
	"adaptive_max_pool2d":   {op: "AdaptiveMaxPool2d", params: []string{"output_size", "return_indices"}},
	"interpolate":           {op: "interpolate", params: []string{"size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"}},
	"upsample":              {op: "interpolate", params: []string{"size", "scale_factor", "mode", "align_corners"}},
	"dropout":               {params: []string{"p", "training", "inplace"}, dropout: true},
	"dropout1d":             {params: []string{"p", "training", "inplace"}, dropout: true},
	"dropout2d":             {params: []string{"p", "training", "inplace"}, dropout: true},
	"alpha_dropout":         {params: []string{"p", "training", "inplace"}, dropout: true},
	"feature_alpha_dropout": {params: []string{"p", "training", "inplace"}, dropout: true},
	"mean":                  {op: "mean", params: []string{"dim", "keepdim"}},
	"flatten":               {op: "flatten", params: []string{"start_dim", "end_dim"}},
	"contiguous":            {op: "Identity", params: []string{"memory_format"}},
}

// binaryFns are torch functions and Tensor methods of two tensors.
var binaryFns = map[string]string{"add": "add", "sub": "sub", "mul": "mul", "div": "div", "subtract": "sub", "multiply": "mul", "divide": "div"}

// weightedOps are the arch ops whose step names its weights by key.
func weightedOp(op string) bool {
	s, ok := ops[canonOp(op)]
	return ok && s.weighted
}

// paramShapes are the shapes of a torch.nn layer's parameters that its
// constructor arguments fix (for choosing the class whose parameters
// match a file); a parameter whose shape the arguments leave open is
// missing.
func paramShapes(class string, a map[string]any) map[string][]int {
	ints := func(k string) ([]int, bool) {
		switch v := a[k].(type) {
		case int:
			return []int{v}, true
		case []any:
			out := make([]int, len(v))
			for i, e := range v {
				n, ok := e.(int)
				if !ok {
					return nil, false
				}
				out[i] = n
			}
			return out, true
		}
		return nil, false
	}
	one := func(k string) (int, bool) {
		v, ok := ints(k)
		if !ok || len(v) != 1 {
			return 0, false
		}
		return v[0], true
	}
	out := map[string][]int{}
	switch class {
	case "Linear":
		i, ok1 := one("in_features")
		o, ok2 := one("out_features")
		if ok1 && ok2 {
			out["weight"], out["bias"] = []int{o, i}, []int{o}
		}
	case "Conv1d", "Conv2d":
		i, ok1 := one("in_channels")
		o, ok2 := one("out_channels")
		k, ok3 := ints("kernel_size")
		g := 1
		if v, ok := one("groups"); ok && v > 0 {
			g = v
		}
		nd := 2
		if class == "Conv1d" {
			nd = 1
		}
		if ok1 && ok2 && ok3 && (len(k) == 1 || len(k) == nd) {
			w := []int{o, i / g}
			for d := range nd {
				w = append(w, k[min(d, len(k)-1)])
			}
			out["weight"], out["bias"] = w, []int{o}
		}
	case "BatchNorm1d", "BatchNorm2d":
		if n, ok := one("num_features"); ok {
			for _, k := range []string{"weight", "bias", "running_mean", "running_var"} {
				out[k] = []int{n}
			}
		}
	}
	return out
}

// paramKeys are the state_dict keys a torch.nn layer with these
// constructor arguments holds (for choosing the class whose parameters
// match a file).
func paramKeys(class string, a map[string]any) []string {
	isFalse := func(k string) bool { v, ok := a[k]; b, isB := v.(bool); return ok && isB && !b }
	switch class {
	case "Linear", "Conv1d", "Conv2d", "ConvTranspose2d":
		if isFalse("bias") {
			return []string{"weight"}
		}
		return []string{"weight", "bias"}
	case "BatchNorm1d", "BatchNorm2d":
		var out []string
		if !isFalse("affine") {
			out = append(out, "weight", "bias")
		}
		if !isFalse("track_running_stats") {
			out = append(out, "running_mean", "running_var")
		}
		return out
	case "LayerNorm":
		if isFalse("elementwise_affine") {
			return nil
		}
		if isFalse("bias") {
			return []string{"weight"}
		}
		return []string{"weight", "bias"}
	case "PReLU", "Embedding":
		return []string{"weight"}
	}
	return nil
}
