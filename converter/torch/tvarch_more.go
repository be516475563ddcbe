package torch

import "fmt"

// The ShuffleNetV2 and MNASNet builders (torchvision 0.29's
// shufflenetv2.py and mnasnet.py).

// shuffleNetV2 is torchvision's ShuffleNetV2(stages_repeats,
// stages_out_channels, num_classes).
func (b *tvb) shuffleNetV2(a args, repeats [3]int, chans [5]int) (*Module, error) {
	nc, err := numClasses(a)
	if err != nil {
		return nil, err
	}
	const eps = 1e-5
	dw := func(c, stride int) *Module { return b.conv(c, c, 3, stride, 1, c, false) }
	block := func(in, out, stride int) *Module {
		bf := out / 2
		branch1 := b.seq()
		b2in := bf
		if stride > 1 {
			branch1 = b.seq(dw(in, stride), b.bn(in, eps), b.conv(in, bf, 1, 1, 0, 1, false), b.bn(bf, eps), b.relu())
			b2in = in
		}
		branch2 := b.seq(b.conv(b2in, bf, 1, 1, 0, 1, false), b.bn(bf, eps), b.relu(), dw(bf, stride), b.bn(bf, eps),
			b.conv(bf, bf, 1, 1, 0, 1, false), b.bn(bf, eps), b.relu())
		return b.mod(tvShuffle+"InvertedResidual", map[string]any{"stride": stride}, "branch1", branch1, "branch2", branch2)
	}
	kids := []any{"conv1", b.seq(b.conv(3, chans[0], 3, 2, 1, 1, false), b.bn(chans[0], eps), b.relu()), "maxpool", b.maxpool(3, 2, 1, false)}
	in := chans[0]
	for i, n := range repeats {
		out := chans[i+1]
		blocks := []*Module{block(in, out, 2)}
		for range n - 1 {
			blocks = append(blocks, block(out, out, 1))
		}
		kids = append(kids, fmt.Sprintf("stage%d", i+2), b.seq(blocks...))
		in = out
	}
	kids = append(kids, "conv5", b.seq(b.conv(in, chans[4], 1, 1, 0, 1, false), b.bn(chans[4], eps), b.relu()), "fc", b.linear(chans[4], nc))
	outs := make([]any, len(chans))
	for i, c := range chans {
		outs[i] = c
	}
	return b.mod(tvShuffle+"ShuffleNetV2", map[string]any{"_stage_out_channels": outs}, kids...), nil
}

// roundToMultipleOf is mnasnet's _round_to_multiple_of(val, divisor) with
// its round_up_bias 0.9.
func roundToMultipleOf(val float64, divisor int) int {
	nv := max(divisor, int(val+float64(divisor)/2)/divisor*divisor)
	if float64(nv) >= 0.9*val {
		return nv
	}
	return nv + divisor
}

// mnasnet is torchvision's MNASNet(alpha, num_classes, dropout).
func (b *tvb) mnasnet(a args, alpha float64) (*Module, error) {
	nc, err := numClasses(a)
	if err != nil {
		return nil, err
	}
	p, err := a.float("dropout", 0.2)
	if err != nil {
		return nil, err
	}
	const eps, momentum = 1e-5, 1 - 0.9997
	bn := func(c int) *Module {
		m := b.bn(c, eps)
		m.Attrs["momentum"] = momentum
		return m
	}
	var d [8]int
	for i, v := range []int{32, 16, 24, 40, 80, 96, 192, 320} {
		d[i] = roundToMultipleOf(float64(v)*alpha, 8)
	}
	ir := func(in, out, k, stride, exp int) *Module {
		mid := in * exp
		return b.mod(tvMnas+"_InvertedResidual", map[string]any{"apply_residual": in == out && stride == 1},
			"layers", b.seq(b.conv(in, mid, 1, 1, 0, 1, false), bn(mid), b.relu(), b.conv(mid, mid, k, stride, k/2, mid, false), bn(mid), b.relu(),
				b.conv(mid, out, 1, 1, 0, 1, false), bn(out)))
	}
	stack := func(in, out, k, stride, exp, n int) *Module {
		blocks := []*Module{ir(in, out, k, stride, exp)}
		for range n - 1 {
			blocks = append(blocks, ir(out, out, k, 1, exp))
		}
		return b.seq(blocks...)
	}
	layers := b.seq(b.conv(3, d[0], 3, 2, 1, 1, false), bn(d[0]), b.relu(), b.conv(d[0], d[0], 3, 1, 1, d[0], false), bn(d[0]), b.relu(),
		b.conv(d[0], d[1], 1, 1, 0, 1, false), bn(d[1]),
		stack(d[1], d[2], 3, 2, 3, 3), stack(d[2], d[3], 5, 2, 3, 3), stack(d[3], d[4], 5, 2, 6, 3), stack(d[4], d[5], 3, 1, 6, 2),
		stack(d[5], d[6], 5, 2, 6, 4), stack(d[6], d[7], 3, 1, 6, 1),
		b.conv(d[7], 1280, 1, 1, 0, 1, false), bn(1280), b.relu())
	drop := b.dropout(p)
	drop.Attrs["inplace"] = true
	return b.mod(tvMnas+"MNASNet", map[string]any{"alpha": alpha, "num_classes": nc}, "layers", layers,
		"classifier", b.seq(drop, b.linear(1280, nc))), nil
}

// addMoreBuilders adds the ShuffleNetV2, MNASNet, ConvNeXt and GoogLeNet builders.
func addMoreBuilders(m map[string]*tvBuilder) {
	for name, c := range convNeXtStages {
		m[name] = &tvBuilder{args: []string{"num_classes", "stochastic_depth_prob", "layer_scale"}, build: func(b *tvb, a args) (*Module, error) {
			return b.convNeXt(a, c.cfg, c.sdp)
		}}
	}
	m["googlenet"] = &tvBuilder{args: []string{"num_classes", "transform_input", "aux_logits", "init_weights", "dropout", "dropout_aux"}, build: (*tvb).googLeNet}
	for name, c := range map[string]struct {
		r [3]int
		c [5]int
	}{
		"shufflenet_v2_x0_5": {[3]int{4, 8, 4}, [5]int{24, 48, 96, 192, 1024}},
		"shufflenet_v2_x1_0": {[3]int{4, 8, 4}, [5]int{24, 116, 232, 464, 1024}},
		"shufflenet_v2_x1_5": {[3]int{4, 8, 4}, [5]int{24, 176, 352, 704, 1024}},
		"shufflenet_v2_x2_0": {[3]int{4, 8, 4}, [5]int{24, 244, 488, 976, 2048}},
	} {
		m[name] = &tvBuilder{args: []string{"num_classes"}, build: func(b *tvb, a args) (*Module, error) { return b.shuffleNetV2(a, c.r, c.c) }}
	}
	for name, alpha := range map[string]float64{"mnasnet0_5": 0.5, "mnasnet0_75": 0.75, "mnasnet1_0": 1.0, "mnasnet1_3": 1.3} {
		m[name] = &tvBuilder{args: []string{"num_classes", "dropout"}, build: func(b *tvb, a args) (*Module, error) { return b.mnasnet(a, alpha) }}
	}
}

// googLeNet is torchvision's GoogLeNet(num_classes, aux_logits,
// transform_input=False, init_weights, dropout, dropout_aux) as googlenet()
// makes it without weights. transform_input must be stated: the builder
// sets it True when it loads pretrained weights, and a state_dict does not
// record it; True (the input re-normalisation) is refused.
func (b *tvb) googLeNet(a args) (*Module, error) {
	nc, err := numClasses(a)
	if err != nil {
		return nil, err
	}
	if !a.has("transform_input") {
		return nil, fmt.Errorf("transform_input: state it (false): googlenet(weights=...) sets it True and the state_dict does not record it")
	}
	ti, err := a.boolean("transform_input", false)
	if err != nil {
		return nil, err
	}
	if ti {
		return nil, fmt.Errorf("transform_input = true (the ImageNet re-normalisation of the input) is not modelled: export the model instead: %s", pt2Only)
	}
	aux, err := a.boolean("aux_logits", true)
	if err != nil {
		return nil, err
	}
	if _, err := a.boolean("init_weights", false); err != nil {
		return nil, err
	}
	p, err := a.float("dropout", 0.2)
	if err != nil {
		return nil, err
	}
	pAux, err := a.float("dropout_aux", 0.7)
	if err != nil {
		return nil, err
	}
	basic := func(in, out, k, stride, pad int) *Module {
		return b.mod(tvGoogLeNet+"BasicConv2d", nil, "conv", b.conv(in, out, k, stride, pad, 1, false), "bn", b.bn(out, 1e-3))
	}
	inception := func(in, c1, c3r, c3, c5r, c5, pp int) *Module {
		return b.mod(tvGoogLeNet+"Inception", nil, "branch1", basic(in, c1, 1, 1, 0),
			"branch2", b.seq(basic(in, c3r, 1, 1, 0), basic(c3r, c3, 3, 1, 1)),
			"branch3", b.seq(basic(in, c5r, 1, 1, 0), basic(c5r, c5, 3, 1, 1)),
			"branch4", b.seq(b.maxpool(3, 1, 1, true), basic(in, pp, 1, 1, 0)))
	}
	pool := func(k int) *Module { return b.maxpool(k, 2, 0, true) }
	kids := []any{"conv1", basic(3, 64, 7, 2, 3), "maxpool1", pool(3), "conv2", basic(64, 64, 1, 1, 0), "conv3", basic(64, 192, 3, 1, 1),
		"maxpool2", pool(3), "inception3a", inception(192, 64, 96, 128, 16, 32, 32), "inception3b", inception(256, 128, 128, 192, 32, 96, 64),
		"maxpool3", pool(3), "inception4a", inception(480, 192, 96, 208, 16, 48, 64), "inception4b", inception(512, 160, 112, 224, 24, 64, 64),
		"inception4c", inception(512, 128, 128, 256, 24, 64, 64), "inception4d", inception(512, 112, 144, 288, 32, 64, 64),
		"inception4e", inception(528, 256, 160, 320, 32, 128, 128), "maxpool4", pool(2),
		"inception5a", inception(832, 256, 160, 320, 32, 128, 128), "inception5b", inception(832, 384, 192, 384, 48, 128, 128)}
	if aux {
		for _, x := range []struct {
			name string
			in   int
		}{{"aux1", 512}, {"aux2", 528}} {
			kids = append(kids, x.name, b.mod(tvGoogLeNet+"InceptionAux", nil, "conv", basic(x.in, 128, 1, 1, 0),
				"fc1", b.linear(2048, 1024), "fc2", b.linear(1024, nc), "dropout", b.dropout(pAux)))
		}
	}
	kids = append(kids, "avgpool", b.adaptive(1, 1), "dropout", b.dropout(p), "fc", b.linear(1024, nc))
	return b.mod(tvGoogLeNet+"GoogLeNet", map[string]any{"aux_logits": aux, "transform_input": false}, kids...), nil
}

// convNeXtStages are the convnext_* builders' CNBlockConfig tables
// (input channels, output channels or 0 for None, layers) and their
// default stochastic_depth_prob.
var convNeXtStages = map[string]struct {
	cfg [4][3]int
	sdp float64
}{
	"convnext_tiny":  {[4][3]int{{96, 192, 3}, {192, 384, 3}, {384, 768, 9}, {768, 0, 3}}, 0.1},
	"convnext_small": {[4][3]int{{96, 192, 3}, {192, 384, 3}, {384, 768, 27}, {768, 0, 3}}, 0.4},
	"convnext_base":  {[4][3]int{{128, 256, 3}, {256, 512, 3}, {512, 1024, 27}, {1024, 0, 3}}, 0.5},
	"convnext_large": {[4][3]int{{192, 384, 3}, {384, 768, 3}, {768, 1536, 27}, {1536, 0, 3}}, 0.5},
}

// convNeXt is torchvision's ConvNeXt(block_setting, stochastic_depth_prob,
// layer_scale, num_classes) (LayerNorm2d and CNBlock's LayerNorm eps 1e-6).
func (b *tvb) convNeXt(a args, cfg [4][3]int, sdpDefault float64) (*Module, error) {
	nc, err := numClasses(a)
	if err != nil {
		return nil, err
	}
	sdp, err := a.float("stochastic_depth_prob", sdpDefault)
	if err != nil || sdp < 0 || sdp > 1 {
		return nil, fmt.Errorf("stochastic_depth_prob = %v: want a probability in [0, 1]", a["stochastic_depth_prob"])
	}
	if _, err := a.float("layer_scale", 1e-6); err != nil { // the initial value of the layer_scale parameter
		return nil, err
	}
	const eps = 1e-6
	ln := func(cls string, c int) *Module {
		return b.mod(cls, map[string]any{"normalized_shape": []any{c}, "eps": eps, "elementwise_affine": true})
	}
	ln2d := func(c int) *Module { return ln(tvConvNeXt+"LayerNorm2d", c) }
	permute := func(dims ...any) *Module { return b.mod(tvMisc+"Permute", map[string]any{"dims": dims}) }
	stem := b.conv(3, cfg[0][0], 4, 4, 0, 1, true)
	feats := []*Module{b.seqOf(tvMisc+"Conv2dNormActivation", map[string]any{"out_channels": cfg[0][0]}, stem, ln2d(cfg[0][0]))}
	total := 0
	for _, c := range cfg {
		total += c[2]
	}
	id := 0
	for _, c := range cfg {
		dim := c[0]
		var blocks []*Module
		for range c[2] {
			blk := b.mod(tvConvNeXt+"CNBlock", nil,
				"block", b.seq(b.conv(dim, dim, 7, 1, 3, dim, true), permute(0, 2, 3, 1), ln("torch.nn.modules.normalization.LayerNorm", dim),
					b.linear(dim, 4*dim), b.act("GELU"), b.linear(4*dim, dim), permute(0, 3, 1, 2)),
				"stochastic_depth", b.mod(tvStochDep, map[string]any{"p": sdp * float64(id) / (float64(total) - 1), "mode": "row"}))
			b.scale[blk] = dim
			blocks = append(blocks, blk)
			id++
		}
		feats = append(feats, b.seq(blocks...))
		if c[1] != 0 {
			feats = append(feats, b.seq(ln2d(dim), b.conv(dim, c[1], 2, 2, 0, 1, true)))
		}
	}
	last := cfg[3][0]
	if cfg[3][1] != 0 {
		last = cfg[3][1]
	}
	flat := b.mod("torch.nn.modules.flatten.Flatten", map[string]any{"start_dim": 1, "end_dim": -1})
	return b.mod(tvConvNeXt+"ConvNeXt", nil, "features", b.seq(feats...),
		"avgpool", b.mod("torch.nn.modules.pooling.AdaptiveAvgPool2d", map[string]any{"output_size": 1}),
		"classifier", b.seq(ln2d(last), flat, b.linear(last, nc))), nil
}
