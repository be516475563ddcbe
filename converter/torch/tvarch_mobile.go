package torch

import (
	"fmt"
	"math"
)

// The MobileNetV3 and EfficientNet builders (torchvision 0.29's
// mobilenetv3.py and efficientnet.py tables).

// mbv3Row is one row of MobileNetV3's bneck table: input channels, kernel,
// expanded channels, output channels, SE, hard-swish, stride, dilated
// (the rows that `dilated=True` gives dilation 2).
type mbv3Row struct {
	in, k, exp, out int
	se, hs          bool
	stride          int
	tail            bool // C4 and after: reduced_tail halves these, dilated dilates them
}

var mbv3Large = []mbv3Row{
	{16, 3, 16, 16, false, false, 1, false}, {16, 3, 64, 24, false, false, 2, false}, {24, 3, 72, 24, false, false, 1, false},
	{24, 5, 72, 40, true, false, 2, false}, {40, 5, 120, 40, true, false, 1, false}, {40, 5, 120, 40, true, false, 1, false},
	{40, 3, 240, 80, false, true, 2, false}, {80, 3, 200, 80, false, true, 1, false}, {80, 3, 184, 80, false, true, 1, false},
	{80, 3, 184, 80, false, true, 1, false}, {80, 3, 480, 112, true, true, 1, false}, {112, 3, 672, 112, true, true, 1, false},
	{112, 5, 672, 160, true, true, 2, true}, {160, 5, 960, 160, true, true, 1, true}, {160, 5, 960, 160, true, true, 1, true},
}

var mbv3Small = []mbv3Row{
	{16, 3, 16, 16, true, false, 2, false}, {16, 3, 72, 24, false, false, 2, false}, {24, 3, 88, 24, false, false, 1, false},
	{24, 5, 96, 40, true, true, 2, false}, {40, 5, 240, 40, true, true, 1, false}, {40, 5, 240, 40, true, true, 1, false},
	{40, 5, 120, 48, true, true, 1, false}, {48, 5, 144, 48, true, true, 1, false}, {48, 5, 288, 96, true, true, 2, true},
	{96, 5, 576, 96, true, true, 1, true}, {96, 5, 576, 96, true, true, 1, true},
}

// mobileNetV3 is torchvision's mobilenet_v3_large/small(num_classes,
// dropout, width_mult, reduced_tail, dilated).
func (b *tvb) mobileNetV3(a args, rows []mbv3Row, lastCh int) (*Module, error) {
	nc, err := numClasses(a)
	if err != nil {
		return nil, err
	}
	p, err := a.float("dropout", 0.2)
	if err != nil {
		return nil, err
	}
	wm, err := a.float("width_mult", 1.0)
	if err != nil || wm <= 0 {
		return nil, fmt.Errorf("width_mult = %v: want a positive number", a["width_mult"])
	}
	reduced, err := a.boolean("reduced_tail", false)
	if err != nil {
		return nil, err
	}
	dilated, err := a.boolean("dilated", false)
	if err != nil {
		return nil, err
	}
	const eps = 1e-3 // norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
	adj := func(c int) int { return makeDivisible(float64(c)*wm, 8) }
	div := 1
	if reduced {
		div = 2
	}
	var feats []*Module
	first := adj(rows[0].in)
	feats = append(feats, b.convNormAct(3, first, 3, 2, 1, eps, "Hardswish"))
	lastOut := 0
	for i, r := range rows {
		in, exp, out, dil := r.in, r.exp, r.out, 1
		if r.tail {
			// reduced_tail divides the C4 row's output, and the input and
			// expansion of the rows after it.
			if i > 0 && rows[i-1].tail {
				in, exp = in/div, exp/div
			}
			out /= div
			if dilated {
				dil = 2
			}
		}
		in, exp, out = adj(in), adj(exp), adj(out)
		act := "ReLU"
		if r.hs {
			act = "Hardswish"
		}
		var layers []*Module
		if exp != in {
			layers = append(layers, b.convNormAct(in, exp, 1, 1, 1, eps, act))
		}
		stride := r.stride
		if dil > 1 {
			stride = 1
		}
		layers = append(layers, b.convNormActD(exp, exp, r.k, stride, dil, exp, eps, act))
		if r.se {
			layers = append(layers, b.se(exp, makeDivisible(float64(exp/4), 8), "ReLU!", "Hardsigmoid"))
		}
		layers = append(layers, b.convNormAct(exp, out, 1, 1, 1, eps, ""))
		feats = append(feats, b.mod(tvMobileV3+"InvertedResidual",
			map[string]any{"use_res_connect": r.stride == 1 && in == out, "out_channels": out, "_is_cn": r.stride > 1},
			"block", b.seq(layers...)))
		lastOut = out
	}
	feats = append(feats, b.convNormAct(lastOut, 6*lastOut, 1, 1, 1, eps, "Hardswish"))
	last := adj(lastCh / div)
	drop := b.dropout(p)
	drop.Attrs["inplace"] = true
	cls := b.seq(b.linear(6*lastOut, last), b.act("Hardswish"), drop, b.linear(last, nc))
	return b.mod(tvMobileV3+"MobileNetV3", nil, "features", b.seq(feats...),
		"avgpool", b.mod("torch.nn.modules.pooling.AdaptiveAvgPool2d", map[string]any{"output_size": 1}), "classifier", cls), nil
}

// effRow is one row of EfficientNet's table: expand ratio, kernel, stride,
// input and output channels, layers; fused is FusedMBConvConfig.
type effRow struct {
	expand         float64
	k, stride      int
	in, out, depth int
	fused          bool
}

var effB = []effRow{{1, 3, 1, 32, 16, 1, false}, {6, 3, 2, 16, 24, 2, false}, {6, 5, 2, 24, 40, 2, false},
	{6, 3, 2, 40, 80, 3, false}, {6, 5, 1, 80, 112, 3, false}, {6, 5, 2, 112, 192, 4, false}, {6, 3, 1, 192, 320, 1, false}}

var effV2 = map[string][]effRow{
	"s": {{1, 3, 1, 24, 24, 2, true}, {4, 3, 2, 24, 48, 4, true}, {4, 3, 2, 48, 64, 4, true}, {4, 3, 2, 64, 128, 6, false},
		{6, 3, 1, 128, 160, 9, false}, {6, 3, 2, 160, 256, 15, false}},
	"m": {{1, 3, 1, 24, 24, 3, true}, {4, 3, 2, 24, 48, 5, true}, {4, 3, 2, 48, 80, 5, true}, {4, 3, 2, 80, 160, 7, false},
		{6, 3, 1, 160, 176, 14, false}, {6, 3, 2, 176, 304, 18, false}, {6, 3, 1, 304, 512, 5, false}},
	"l": {{1, 3, 1, 32, 32, 4, true}, {4, 3, 2, 32, 64, 7, true}, {4, 3, 2, 64, 96, 7, true}, {4, 3, 2, 96, 192, 10, false},
		{6, 3, 1, 192, 224, 19, false}, {6, 3, 2, 224, 384, 25, false}, {6, 3, 1, 384, 640, 7, false}},
}

// effB holds each efficientnet_bN builder's width_mult, depth_mult,
// default dropout and BatchNorm eps.
var effBScale = map[string][4]float64{
	"b0": {1.0, 1.0, 0.2, 1e-5}, "b1": {1.0, 1.1, 0.2, 1e-5}, "b2": {1.1, 1.2, 0.3, 1e-5}, "b3": {1.2, 1.4, 0.3, 1e-5},
	"b4": {1.4, 1.8, 0.4, 1e-5}, "b5": {1.6, 2.2, 0.4, 1e-3}, "b6": {1.8, 2.6, 0.5, 1e-3}, "b7": {2.0, 3.1, 0.5, 1e-3},
}

// efficientNet is torchvision's EfficientNet(setting, dropout,
// stochastic_depth_prob, num_classes, norm_layer, last_channel) as the
// efficientnet_* builders make it.
func (b *tvb) efficientNet(a args, rows []effRow, wm, dm, dropout, eps float64, lastCh int) (*Module, error) {
	nc, err := numClasses(a)
	if err != nil {
		return nil, err
	}
	p, err := a.float("dropout", dropout)
	if err != nil {
		return nil, err
	}
	sdp, err := a.float("stochastic_depth_prob", 0.2)
	if err != nil || sdp < 0 || sdp > 1 {
		return nil, fmt.Errorf("stochastic_depth_prob = %v: want a probability in [0, 1]", a["stochastic_depth_prob"])
	}
	type blk struct {
		r       effRow
		in, out int
		stride  int
	}
	var stages [][]blk
	total := 0
	for _, r := range rows {
		in, out, n := r.in, r.out, r.depth
		if !r.fused {
			in, out = makeDivisible(float64(in)*wm, 8), makeDivisible(float64(out)*wm, 8)
			n = int(math.Ceil(float64(n) * dm))
		}
		var st []blk
		for j := range n {
			bk := blk{r, in, out, r.stride}
			if j > 0 {
				bk.in, bk.stride = out, 1
			}
			st = append(st, bk)
		}
		total += n
		stages = append(stages, st)
	}
	first := stages[0][0].in
	feats := []*Module{b.convNormAct(3, first, 3, 2, 1, eps, "SiLU")}
	id := 0
	lastOut := 0
	for _, st := range stages {
		var blocks []*Module
		for _, bk := range st {
			exp := makeDivisible(float64(bk.in)*bk.r.expand, 8)
			var layers []*Module
			cls := "MBConv"
			switch {
			case bk.r.fused && exp != bk.in:
				cls = "FusedMBConv"
				layers = append(layers, b.convNormAct(bk.in, exp, bk.r.k, bk.stride, 1, eps, "SiLU"), b.convNormAct(exp, bk.out, 1, 1, 1, eps, ""))
			case bk.r.fused:
				cls = "FusedMBConv"
				layers = append(layers, b.convNormAct(bk.in, bk.out, bk.r.k, bk.stride, 1, eps, "SiLU"))
			default:
				if exp != bk.in {
					layers = append(layers, b.convNormAct(bk.in, exp, 1, 1, 1, eps, "SiLU"))
				}
				layers = append(layers, b.convNormAct(exp, exp, bk.r.k, bk.stride, exp, eps, "SiLU"),
					b.se(exp, max(1, bk.in/4), "SiLU", "Sigmoid"), b.convNormAct(exp, bk.out, 1, 1, 1, eps, ""))
			}
			sd := b.mod(tvStochDep, map[string]any{"p": sdp * float64(id) / float64(total), "mode": "row"})
			blocks = append(blocks, b.mod(tvEffNet+cls, map[string]any{"use_res_connect": bk.stride == 1 && bk.in == bk.out, "out_channels": bk.out},
				"block", b.seq(layers...), "stochastic_depth", sd))
			id++
			lastOut = bk.out
		}
		feats = append(feats, b.seq(blocks...))
	}
	if lastCh == 0 {
		lastCh = 4 * lastOut
	}
	feats = append(feats, b.convNormAct(lastOut, lastCh, 1, 1, 1, eps, "SiLU"))
	drop := b.dropout(p)
	drop.Attrs["inplace"] = true
	return b.mod(tvEffNet+"EfficientNet", nil, "features", b.seq(feats...),
		"avgpool", b.mod("torch.nn.modules.pooling.AdaptiveAvgPool2d", map[string]any{"output_size": 1}),
		"classifier", b.seq(drop, b.linear(lastCh, nc))), nil
}

// addMobileBuilders adds the MobileNetV3 and EfficientNet builders.
func addMobileBuilders(m map[string]*tvBuilder) {
	v3 := []string{"num_classes", "dropout", "width_mult", "reduced_tail", "dilated"}
	m["mobilenet_v3_large"] = &tvBuilder{args: v3, build: func(b *tvb, a args) (*Module, error) { return b.mobileNetV3(a, mbv3Large, 1280) }}
	m["mobilenet_v3_small"] = &tvBuilder{args: v3, build: func(b *tvb, a args) (*Module, error) { return b.mobileNetV3(a, mbv3Small, 1024) }}
	eff := []string{"num_classes", "dropout", "stochastic_depth_prob"}
	for v, sc := range effBScale {
		m["efficientnet_"+v] = &tvBuilder{args: eff, build: func(b *tvb, a args) (*Module, error) {
			return b.efficientNet(a, effB, sc[0], sc[1], sc[2], sc[3], 0)
		}}
	}
	for v, drop := range map[string]float64{"s": 0.2, "m": 0.3, "l": 0.4} {
		m["efficientnet_v2_"+v] = &tvBuilder{args: eff, build: func(b *tvb, a args) (*Module, error) {
			return b.efficientNet(a, effV2[v], 1, 1, drop, 1e-3, 1280)
		}}
	}
}
