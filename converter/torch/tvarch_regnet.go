package torch

import (
	"fmt"
	"math"
)

// The RegNet builders (torchvision 0.29's regnet.py): BlockParams.from_init_params
// computes the per-stage widths and depths in float32 (torch's default
// dtype), as emulated here; TestTorchvisionBuilderShapes checks every
// builder against torchvision's own tensors.

// regnetInit are a builder's from_init_params arguments; se is se_ratio
// (0: none).
type regnetInit struct {
	depth, w0  int
	wa, wm     float64
	groupWidth int
	se         float64
}

var regnets = map[string]regnetInit{
	"regnet_y_400mf": {16, 48, 27.89, 2.09, 8, 0.25}, "regnet_y_800mf": {14, 56, 38.84, 2.4, 16, 0.25},
	"regnet_y_1_6gf": {27, 48, 20.71, 2.65, 24, 0.25}, "regnet_y_3_2gf": {21, 80, 42.63, 2.66, 24, 0.25},
	"regnet_y_8gf": {17, 192, 76.82, 2.19, 56, 0.25}, "regnet_y_16gf": {18, 200, 106.23, 2.48, 112, 0.25},
	"regnet_y_32gf": {20, 232, 115.89, 2.53, 232, 0.25}, "regnet_y_128gf": {27, 456, 160.83, 2.52, 264, 0.25},
	"regnet_x_400mf": {22, 24, 24.48, 2.54, 16, 0}, "regnet_x_800mf": {16, 56, 35.73, 2.28, 16, 0},
	"regnet_x_1_6gf": {18, 80, 34.01, 2.25, 24, 0}, "regnet_x_3_2gf": {25, 88, 26.31, 2.25, 48, 0},
	"regnet_x_8gf": {23, 80, 49.56, 2.88, 120, 0}, "regnet_x_16gf": {22, 216, 55.59, 2.1, 128, 0},
	"regnet_x_32gf": {23, 320, 69.86, 2.0, 168, 0},
}

// stages computes BlockParams.from_init_params: per stage, width, depth
// and group width (bottleneck multiplier 1, stride 2).
func (r regnetInit) stages() (widths, depths, groups []int) {
	const quant = 8
	w0 := float32(r.w0)
	logWm := float32(math.Log(r.wm))
	var bw []int
	for i := range r.depth {
		wc := float32(i)*float32(r.wa) + w0
		capacity := float32(math.RoundToEven(float64(float32(math.Log(float64(wc/w0))) / logWm)))
		p := float32(math.Pow(float64(float32(r.wm)), float64(capacity)))
		bw = append(bw, int(float32(math.RoundToEven(float64(w0*p/quant))))*quant)
	}
	start := 0
	for i := 1; i <= len(bw); i++ {
		if i == len(bw) || bw[i] != bw[i-1] {
			widths = append(widths, bw[start])
			depths = append(depths, i-start)
			start = i
		}
	}
	for i, w := range widths {
		g := min(r.groupWidth, w)
		widths[i] = makeDivisible(float64(w), g)
		groups = append(groups, g)
	}
	return widths, depths, groups
}

// regNet is torchvision's RegNet(block_params, num_classes, stem_width)
// as the regnet_* builders make it (BatchNorm eps 1e-5, ReLU).
func (b *tvb) regNet(a args, r regnetInit) (*Module, error) {
	nc, err := numClasses(a)
	if err != nil {
		return nil, err
	}
	stem, err := posInt(a, "stem_width", 32)
	if err != nil {
		return nil, err
	}
	const eps = 1e-5
	widths, depths, groups := r.stages()
	in := stem
	var stages []any
	for s := range widths {
		out, g := widths[s], groups[s]
		var blocks []any
		for i := range depths[s] {
			stride := 1
			if i == 0 {
				stride = 2
			}
			wb := out // int(round(width_out * bottleneck_multiplier)), multiplier 1
			f := []any{"a", b.convNormAct(in, wb, 1, 1, 1, eps, "ReLU"), "b", b.convNormAct(wb, wb, 3, stride, wb/g, eps, "ReLU")}
			if r.se > 0 {
				f = append(f, "se", b.se(wb, int(math.RoundToEven(r.se*float64(in))), "ReLU!", "Sigmoid"))
			}
			f = append(f, "c", b.convNormAct(wb, out, 1, 1, 1, eps, ""))
			var kids []any
			if in != out || stride != 1 {
				kids = append(kids, "proj", b.convNormAct(in, out, 1, stride, 1, eps, ""))
			}
			kids = append(kids, "f", b.named(tvRegNet+"BottleneckTransform", nil, f...), "activation", b.relu())
			blocks = append(blocks, fmt.Sprintf("block%d-%d", s+1, i), b.mod(tvRegNet+"ResBottleneckBlock", nil, kids...))
			in = out
		}
		stages = append(stages, fmt.Sprintf("block%d", s+1), b.named(tvRegNet+"AnyStage", nil, blocks...))
	}
	stemM := b.convNormAct(3, stem, 3, 2, 1, eps, "ReLU")
	stemM.Class = tvRegNet + "SimpleStemIN"
	return b.mod(tvRegNet+"RegNet", nil, "stem", stemM, "trunk_output", b.named("torch.nn.modules.container.Sequential", nil, stages...),
		"avgpool", b.adaptive(1, 1), "fc", b.linear(in, nc)), nil
}

// addRegNetBuilders adds the regnet_x_* and regnet_y_* builders.
func addRegNetBuilders(m map[string]*tvBuilder) {
	for name, r := range regnets {
		m[name] = &tvBuilder{args: []string{"num_classes", "stem_width"}, build: func(b *tvb, a args) (*Module, error) { return b.regNet(a, r) }}
	}
}
