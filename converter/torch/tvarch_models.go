package torch

import (
	"fmt"
	"math"
)

// The torchvision builders the --arch op `torchvision` knows, with the
// numbers of torchvision 0.29's config tables (resnet.py, mobilenetv2.py,
// vgg.py, alexnet.py, squeezenet.py, densenet.py). Each builder function
// makes the module tree torchvision's builder makes, class for class.

// tvBuilders are the builders by torchvision's name (a package variable
// initialised before the op table of layers.go's init reads it).
var tvBuilders = makeTVBuilders()

func makeTVBuilders() map[string]*tvBuilder {
	tvBuilders := map[string]*tvBuilder{}
	resnets := map[string]struct {
		bottleneck            bool
		layers                [4]int
		groups, widthPerGroup int
	}{
		"resnet18":         {false, [4]int{2, 2, 2, 2}, 1, 64},
		"resnet34":         {false, [4]int{3, 4, 6, 3}, 1, 64},
		"resnet50":         {true, [4]int{3, 4, 6, 3}, 1, 64},
		"resnet101":        {true, [4]int{3, 4, 23, 3}, 1, 64},
		"resnet152":        {true, [4]int{3, 8, 36, 3}, 1, 64},
		"resnext50_32x4d":  {true, [4]int{3, 4, 6, 3}, 32, 4},
		"resnext101_32x8d": {true, [4]int{3, 4, 23, 3}, 32, 8},
		"resnext101_64x4d": {true, [4]int{3, 4, 23, 3}, 64, 4},
		"wide_resnet50_2":  {true, [4]int{3, 4, 6, 3}, 1, 128},
		"wide_resnet101_2": {true, [4]int{3, 4, 23, 3}, 1, 128},
	}
	for name, r := range resnets {
		tvBuilders[name] = &tvBuilder{args: []string{"num_classes", "zero_init_residual"}, build: func(b *tvb, a args) (*Module, error) {
			return b.resnet(a, r.bottleneck, r.layers, r.groups, r.widthPerGroup)
		}}
	}
	tvBuilders["mobilenet_v2"] = &tvBuilder{args: []string{"num_classes", "width_mult", "round_nearest", "dropout"}, build: (*tvb).mobileNetV2}
	vggs := map[string]string{"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}
	for name, cfg := range vggs {
		for _, bnorm := range []bool{false, true} {
			n := name
			if bnorm {
				n += "_bn"
			}
			tvBuilders[n] = &tvBuilder{args: []string{"num_classes", "init_weights", "dropout"}, build: func(b *tvb, a args) (*Module, error) {
				return b.vgg(a, vggCfgs[cfg], bnorm)
			}}
		}
	}
	tvBuilders["alexnet"] = &tvBuilder{args: []string{"num_classes", "dropout"}, build: (*tvb).alexnet}
	for _, v := range []string{"1_0", "1_1"} {
		tvBuilders["squeezenet"+v] = &tvBuilder{args: []string{"num_classes", "dropout"}, build: func(b *tvb, a args) (*Module, error) {
			return b.squeezenet(a, v)
		}}
	}
	densenets := map[string]struct {
		growth, init int
		blocks       [4]int
	}{
		"densenet121": {32, 64, [4]int{6, 12, 24, 16}},
		"densenet161": {48, 96, [4]int{6, 12, 36, 24}},
		"densenet169": {32, 64, [4]int{6, 12, 32, 32}},
		"densenet201": {32, 64, [4]int{6, 12, 48, 32}},
	}
	for name, d := range densenets {
		tvBuilders[name] = &tvBuilder{args: []string{"num_classes", "bn_size", "drop_rate", "memory_efficient"}, build: func(b *tvb, a args) (*Module, error) {
			return b.densenet(a, d.growth, d.init, d.blocks)
		}}
	}
	addMobileBuilders(tvBuilders)
	addMoreBuilders(tvBuilders)
	addRegNetBuilders(tvBuilders)
	addViTBuilders(tvBuilders)
	return tvBuilders
}

// numClasses reads num_classes (1000 by default, as every builder).
func numClasses(a args) (int, error) { return posInt(a, "num_classes", 1000) }

// resnet is torchvision's ResNet(block, layers, groups, width_per_group)
// as its builders make it: conv1 7x7/2, bn1, relu, maxpool 3/2, four
// _make_layer stages (64, 128, 256, 512 planes; stride 1, 2, 2, 2), an
// adaptive average pool and fc. BatchNorm eps is 1e-5.
func (b *tvb) resnet(a args, bottleneck bool, layers [4]int, groups, widthPerGroup int) (*Module, error) {
	nc, err := numClasses(a)
	if err != nil {
		return nil, err
	}
	if _, err := a.boolean("zero_init_residual", false); err != nil {
		return nil, err
	}
	const eps = 1e-5
	expansion := 1
	if bottleneck {
		expansion = 4
	}
	inplanes := 64
	kids := []any{"conv1", b.conv(3, 64, 7, 2, 3, 1, false), "bn1", b.bn(64, eps), "relu", b.relu(), "maxpool", b.maxpool(3, 2, 1, false)}
	for i, n := range layers {
		planes := 64 << i
		stride := 1
		if i > 0 {
			stride = 2
		}
		var blocks []*Module
		for j := range n {
			s := 1
			if j == 0 {
				s = stride
			}
			var down *Module
			if j == 0 && (s != 1 || inplanes != planes*expansion) {
				down = b.seq(b.conv(inplanes, planes*expansion, 1, s, 0, 1, false), b.bn(planes*expansion, eps))
			}
			var cls string
			var body []any
			if bottleneck {
				width := planes * widthPerGroup / 64 * groups
				cls, body = "Bottleneck", []any{
					"conv1", b.conv(inplanes, width, 1, 1, 0, 1, false), "bn1", b.bn(width, eps),
					"conv2", b.conv(width, width, 3, s, 1, groups, false), "bn2", b.bn(width, eps),
					"conv3", b.conv(width, planes*expansion, 1, 1, 0, 1, false), "bn3", b.bn(planes*expansion, eps),
					"relu", b.relu()}
			} else {
				cls, body = "BasicBlock", []any{
					"conv1", b.conv(inplanes, planes, 3, s, 1, 1, false), "bn1", b.bn(planes, eps), "relu", b.relu(),
					"conv2", b.conv(planes, planes, 3, 1, 1, 1, false), "bn2", b.bn(planes, eps)}
			}
			if down != nil { // else torchvision's downsample is None
				body = append(body, "downsample", down)
			}
			blocks = append(blocks, b.mod(tvResNet+cls, map[string]any{"stride": s}, body...))
			inplanes = planes * expansion
		}
		kids = append(kids, fmt.Sprintf("layer%d", i+1), b.seq(blocks...))
	}
	kids = append(kids, "avgpool", b.adaptive(1, 1), "fc", b.linear(512*expansion, nc))
	return b.mod(tvResNet+"ResNet", map[string]any{"inplanes": inplanes, "dilation": 1, "groups": groups, "base_width": widthPerGroup}, kids...), nil
}

// makeDivisible is torchvision's _make_divisible(v, divisor).
func makeDivisible(v float64, divisor int) int {
	nv := int(v+float64(divisor)/2) / divisor * divisor
	nv = max(nv, divisor)
	if float64(nv) < 0.9*v {
		nv += divisor
	}
	return nv
}

// mobileNetV2 is torchvision's MobileNetV2(num_classes, width_mult,
// round_nearest, dropout) with its inverted-residual table (t, c, n, s).
func (b *tvb) mobileNetV2(a args) (*Module, error) {
	nc, err := numClasses(a)
	if err != nil {
		return nil, err
	}
	wm, err := a.float("width_mult", 1.0)
	if err != nil || wm <= 0 {
		return nil, fmt.Errorf("width_mult = %v: want a positive number", a["width_mult"])
	}
	rn, err := posInt(a, "round_nearest", 8)
	if err != nil {
		return nil, err
	}
	p, err := a.float("dropout", 0.2)
	if err != nil {
		return nil, err
	}
	const eps = 1e-5
	setting := [][4]int{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}}
	in := makeDivisible(32*wm, rn)
	last := makeDivisible(1280*math.Max(1, wm), rn)
	feats := []*Module{b.convNormAct(3, in, 3, 2, 1, eps, "ReLU6")}
	for _, st := range setting {
		t, c, n, s := st[0], st[1], st[2], st[3]
		out := makeDivisible(float64(c)*wm, rn)
		for i := range n {
			stride := 1
			if i == 0 {
				stride = s
			}
			hidden := int(math.RoundToEven(float64(in * t)))
			var layers []*Module
			if t != 1 {
				layers = append(layers, b.convNormAct(in, hidden, 1, 1, 1, eps, "ReLU6"))
			}
			layers = append(layers, b.convNormAct(hidden, hidden, 3, stride, hidden, eps, "ReLU6"),
				b.conv(hidden, out, 1, 1, 0, 1, false), b.bn(out, eps))
			feats = append(feats, b.mod(tvMobileV2+"InvertedResidual",
				map[string]any{"stride": stride, "out_channels": out, "_is_cn": stride > 1, "use_res_connect": stride == 1 && in == out},
				"conv", b.seq(layers...)))
			in = out
		}
	}
	feats = append(feats, b.convNormAct(in, last, 1, 1, 1, eps, "ReLU6"))
	return b.mod(tvMobileV2+"MobileNetV2", map[string]any{"last_channel": last},
		"features", b.seq(feats...), "classifier", b.seq(b.dropout(p), b.linear(last, nc))), nil
}

// vggCfgs are torchvision's VGG cfgs (0 is "M", a max pool).
var vggCfgs = map[string][]int{
	"A": {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
	"B": {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
	"D": {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0},
	"E": {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0},
}

// vgg is torchvision's VGG(make_layers(cfg, batch_norm), num_classes,
// init_weights, dropout).
func (b *tvb) vgg(a args, cfg []int, bnorm bool) (*Module, error) {
	nc, err := numClasses(a)
	if err != nil {
		return nil, err
	}
	if _, err := a.boolean("init_weights", true); err != nil {
		return nil, err
	}
	p, err := a.float("dropout", 0.5)
	if err != nil {
		return nil, err
	}
	var feats []*Module
	in := 3
	for _, v := range cfg {
		if v == 0 {
			feats = append(feats, b.maxpool(2, 2, 0, false))
			continue
		}
		// make_layers: Conv2d(in, v, kernel_size=3, padding=1) (with its bias), [BatchNorm2d(v)], ReLU(inplace=True).
		feats = append(feats, b.conv(in, v, 3, 1, 1, 1, true))
		if bnorm {
			feats = append(feats, b.bn(v, 1e-5))
		}
		feats = append(feats, b.relu())
		in = v
	}
	cls := b.seq(b.linear(512*7*7, 4096), b.relu(), b.dropout(p), b.linear(4096, 4096), b.relu(), b.dropout(p), b.linear(4096, nc))
	return b.mod(tvModels+"vgg.VGG", nil, "features", b.seq(feats...), "avgpool", b.adaptive(7, 7), "classifier", cls), nil
}

// alexnet is torchvision's AlexNet(num_classes, dropout).
func (b *tvb) alexnet(a args) (*Module, error) {
	nc, err := numClasses(a)
	if err != nil {
		return nil, err
	}
	p, err := a.float("dropout", 0.5)
	if err != nil {
		return nil, err
	}
	feats := b.seq(b.conv(3, 64, 11, 4, 2, 1, true), b.relu(), b.maxpool(3, 2, 0, false),
		b.conv(64, 192, 5, 1, 2, 1, true), b.relu(), b.maxpool(3, 2, 0, false),
		b.conv(192, 384, 3, 1, 1, 1, true), b.relu(), b.conv(384, 256, 3, 1, 1, 1, true), b.relu(),
		b.conv(256, 256, 3, 1, 1, 1, true), b.relu(), b.maxpool(3, 2, 0, false))
	cls := b.seq(b.dropout(p), b.linear(256*6*6, 4096), b.relu(), b.dropout(p), b.linear(4096, 4096), b.relu(), b.linear(4096, nc))
	return b.mod(tvModels+"alexnet.AlexNet", nil, "features", feats, "avgpool", b.adaptive(6, 6), "classifier", cls), nil
}

// fire is torchvision's squeezenet.Fire(inplanes, squeeze, expand1x1, expand3x3).
func (b *tvb) fire(in, sq, e1, e3 int) *Module {
	return b.mod(tvSqueeze+"Fire", map[string]any{"inplanes": in},
		"squeeze", b.conv(in, sq, 1, 1, 0, 1, true), "squeeze_activation", b.relu(),
		"expand1x1", b.conv(sq, e1, 1, 1, 0, 1, true), "expand1x1_activation", b.relu(),
		"expand3x3", b.conv(sq, e3, 3, 1, 1, 1, true), "expand3x3_activation", b.relu())
}

// squeezenet is torchvision's SqueezeNet(version, num_classes, dropout).
func (b *tvb) squeezenet(a args, version string) (*Module, error) {
	nc, err := numClasses(a)
	if err != nil {
		return nil, err
	}
	p, err := a.float("dropout", 0.5)
	if err != nil {
		return nil, err
	}
	pool := func() *Module { return b.maxpool(3, 2, 0, true) }
	var feats *Module
	if version == "1_0" {
		feats = b.seq(b.conv(3, 96, 7, 2, 0, 1, true), b.relu(), pool(), b.fire(96, 16, 64, 64), b.fire(128, 16, 64, 64),
			b.fire(128, 32, 128, 128), pool(), b.fire(256, 32, 128, 128), b.fire(256, 48, 192, 192), b.fire(384, 48, 192, 192),
			b.fire(384, 64, 256, 256), pool(), b.fire(512, 64, 256, 256))
	} else {
		feats = b.seq(b.conv(3, 64, 3, 2, 0, 1, true), b.relu(), pool(), b.fire(64, 16, 64, 64), b.fire(128, 16, 64, 64), pool(),
			b.fire(128, 32, 128, 128), b.fire(256, 32, 128, 128), pool(), b.fire(256, 48, 192, 192), b.fire(384, 48, 192, 192),
			b.fire(384, 64, 256, 256), b.fire(512, 64, 256, 256))
	}
	cls := b.seq(b.dropout(p), b.conv(512, nc, 1, 1, 0, 1, true), b.relu(), b.adaptive(1, 1))
	return b.mod(tvSqueeze+"SqueezeNet", map[string]any{"num_classes": nc}, "features", feats, "classifier", cls), nil
}

// densenet is torchvision's DenseNet(growth_rate, block_config,
// num_init_features, bn_size, drop_rate, num_classes, memory_efficient).
func (b *tvb) densenet(a args, growth, nif int, blocks [4]int) (*Module, error) {
	nc, err := numClasses(a)
	if err != nil {
		return nil, err
	}
	bnSize, err := posInt(a, "bn_size", 4)
	if err != nil {
		return nil, err
	}
	drop, err := a.float("drop_rate", 0)
	if err != nil {
		return nil, err
	}
	me, err := a.boolean("memory_efficient", false)
	if err != nil {
		return nil, err
	}
	const eps = 1e-5
	kids := []any{"conv0", b.conv(3, nif, 7, 2, 3, 1, false), "norm0", b.bn(nif, eps), "relu0", b.relu(), "pool0", b.maxpool(3, 2, 1, false)}
	nf := nif
	for i, n := range blocks {
		var layers []any
		for j := range n {
			in := nf + j*growth
			layers = append(layers, fmt.Sprintf("denselayer%d", j+1), b.mod(tvDenseLyr, map[string]any{"drop_rate": drop, "memory_efficient": me},
				"norm1", b.bn(in, eps), "relu1", b.relu(), "conv1", b.conv(in, bnSize*growth, 1, 1, 0, 1, false),
				"norm2", b.bn(bnSize*growth, eps), "relu2", b.relu(), "conv2", b.conv(bnSize*growth, growth, 3, 1, 1, 1, false)))
		}
		kids = append(kids, fmt.Sprintf("denseblock%d", i+1), b.mod(tvDenseNet+"_DenseBlock", nil, layers...))
		nf += n * growth
		if i != len(blocks)-1 {
			kids = append(kids, fmt.Sprintf("transition%d", i+1), b.named(tvDenseNet+"_Transition", nil,
				"norm", b.bn(nf, eps), "relu", b.relu(), "conv", b.conv(nf, nf/2, 1, 1, 0, 1, false), "pool", b.avgpool(2, 2)))
			nf /= 2
		}
	}
	kids = append(kids, "norm5", b.bn(nf, eps))
	return b.mod(tvDenseNet+"DenseNet", nil, "features", b.mod("torch.nn.modules.container.Sequential", nil, kids...),
		"classifier", b.linear(nf, nc)), nil
}
