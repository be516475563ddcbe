package torch

import (
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/graph"
)

// The forwards of the torchvision classes (torchvision 0.29, the version
// testdata/gen pins), each as in torchvision's source: the comments quote
// it. Attributes noted "bookkeeping" are set by __init__ and never read by
// forward; their type is checked, their value is harmless.

const (
	tvMisc      = "torchvision.ops.misc."
	tvModels    = "torchvision.models."
	tvStochDep  = "torchvision.ops.stochastic_depth.StochasticDepth"
	tvDenseLyr  = tvModels + "densenet._DenseLayer"
	tvResNet    = tvModels + "resnet."
	tvMobileV2  = tvModels + "mobilenetv2."
	tvMobileV3  = tvModels + "mobilenetv3."
	tvEffNet    = tvModels + "efficientnet."
	tvShuffle   = tvModels + "shufflenetv2."
	tvSqueeze   = tvModels + "squeezenet."
	tvMnas      = tvModels + "mnasnet."
	tvRegNet    = tvModels + "regnet."
	tvGoogLeNet = tvModels + "googlenet."
	tvDenseNet  = tvModels + "densenet."
	tvConvNeXt  = tvModels + "convnext."
)

func init() {
	seq := func(attrs map[string]attrCheck) *tvSpec { return &tvSpec{seq: true, attrs: attrs} }
	outCh := map[string]attrCheck{"out_channels": wantInt} // bookkeeping
	// A classifier whose forward is children in order with torch.flatten(x, 1)
	// after the pooling child: x = features(x); x = avgpool(x); x = flatten(x, 1); x = classifier(x).
	pooled := func(attrs map[string]attrCheck) *tvSpec {
		return &tvSpec{attrs: attrs, children: []string{"features", "avgpool", "classifier"}, forward: fwdPooled}
	}
	residual := func(body, flag string, inplace bool, attrs map[string]attrCheck) *tvSpec {
		attrs[flag] = wantBool
		return &tvSpec{attrs: attrs, children: []string{body}, forward: fwdResidual(body, flag, "", inplace)}
	}
	tvClasses = map[string]*tvSpec{
		tvMisc + "Conv2dNormActivation": seq(outCh),
		tvMisc + "ConvNormActivation":   seq(outCh),
		tvMisc + "SqueezeExcitation": {children: []string{"avgpool", "fc1", "activation", "fc2", "scale_activation"},
			forward: fwdSqueezeExcitation},
		tvMisc + "Permute": {attrs: map[string]attrCheck{"dims": wantInts}, forward: fwdPermute},
		tvStochDep: {attrs: map[string]attrCheck{"p": wantProb, "mode": wantOneOf("batch", "row")},
			forward: fwdIdentity}, // inference: `if not training or p == 0.0: return input`

		tvResNet + "ResNet": {attrs: map[string]attrCheck{
			"_norm_layer": wantLayerClass, "inplanes": wantInt, "dilation": wantInt, "groups": wantInt, "base_width": wantInt}, // bookkeeping
			children: []string{"conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"},
			forward:  fwdResNet},
		tvResNet + "BasicBlock": {attrs: map[string]attrCheck{"stride": wantInt, "downsample": wantNone},
			children: []string{"conv1", "bn1", "relu", "conv2", "bn2", "downsample"}, optional: []string{"downsample"},
			forward: fwdResBlock("conv1", "bn1", "relu", "conv2", "bn2")},
		tvResNet + "Bottleneck": {attrs: map[string]attrCheck{"stride": wantInt, "downsample": wantNone},
			children: []string{"conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "relu", "downsample"}, optional: []string{"downsample"},
			forward: fwdResBlock("conv1", "bn1", "relu", "conv2", "bn2", "relu", "conv3", "bn3")},

		tvMobileV2 + "MobileNetV2": {attrs: map[string]attrCheck{"last_channel": wantInt},
			children: []string{"features", "classifier"}, forward: fwdMobileNetV2},
		tvMobileV2 + "InvertedResidual": residual("conv", "use_res_connect", false,
			map[string]attrCheck{"stride": wantInt, "out_channels": wantInt, "_is_cn": wantBool}),
		tvMobileV3 + "MobileNetV3": pooled(nil),
		tvMobileV3 + "InvertedResidual": residual("block", "use_res_connect", true,
			map[string]attrCheck{"out_channels": wantInt, "_is_cn": wantBool}),

		tvEffNet + "EfficientNet": pooled(nil),
		tvEffNet + "MBConv": {attrs: map[string]attrCheck{"use_res_connect": wantBool, "out_channels": wantInt},
			children: []string{"block", "stochastic_depth"}, forward: fwdResidual("block", "use_res_connect", "stochastic_depth", true)},
		tvEffNet + "FusedMBConv": {attrs: map[string]attrCheck{"use_res_connect": wantBool, "out_channels": wantInt},
			children: []string{"block", "stochastic_depth"}, forward: fwdResidual("block", "use_res_connect", "stochastic_depth", true)},

		tvShuffle + "ShuffleNetV2": {attrs: map[string]attrCheck{"_stage_out_channels": wantInts},
			children: []string{"conv1", "maxpool", "stage2", "stage3", "stage4", "conv5", "fc"}, forward: fwdShuffleNetV2},
		tvShuffle + "InvertedResidual": {attrs: map[string]attrCheck{"stride": wantInt},
			children: []string{"branch1", "branch2"}, forward: fwdShuffleBlock},

		tvSqueeze + "SqueezeNet": {attrs: map[string]attrCheck{"num_classes": wantInt},
			children: []string{"features", "classifier"}, forward: fwdSqueezeNet},
		tvSqueeze + "Fire": {attrs: map[string]attrCheck{"inplanes": wantInt},
			children: []string{"squeeze", "squeeze_activation", "expand1x1", "expand1x1_activation", "expand3x3", "expand3x3_activation"},
			forward:  fwdFire},

		tvMnas + "MNASNet": {attrs: map[string]attrCheck{"alpha": wantNumber, "num_classes": wantInt, "_version": wantInt},
			children: []string{"layers", "classifier"}, forward: fwdMNASNet},
		tvMnas + "_InvertedResidual": residual("layers", "apply_residual", false, map[string]attrCheck{}),

		tvRegNet + "RegNet":              {children: []string{"stem", "trunk_output", "avgpool", "fc"}, forward: fwdRegNet},
		tvRegNet + "SimpleStemIN":        seq(outCh),
		tvRegNet + "AnyStage":            seq(nil),
		tvRegNet + "BottleneckTransform": seq(nil),
		tvRegNet + "ResBottleneckBlock": {attrs: map[string]attrCheck{"proj": wantNone},
			children: []string{"proj", "f", "activation"}, optional: []string{"proj"}, forward: fwdResBottleneck},

		tvGoogLeNet + "GoogLeNet": {attrs: map[string]attrCheck{"aux_logits": wantBool, "transform_input": wantBool, "aux1": wantNone, "aux2": wantNone},
			children: append(slices.Clone(googLeNetTrunk), "aux1", "aux2"), optional: []string{"aux1", "aux2"}, forward: fwdGoogLeNet},
		tvGoogLeNet + "Inception":   {children: []string{"branch1", "branch2", "branch3", "branch4"}, forward: fwdInception},
		tvGoogLeNet + "BasicConv2d": {children: []string{"conv", "bn"}, forward: fwdBasicConv2d},
		// Runs only in training mode (GoogLeNet refuses that with aux_logits).
		tvGoogLeNet + "InceptionAux": {children: []string{"conv", "fc1", "fc2", "dropout"}},

		tvDenseNet + "DenseNet":    {children: []string{"features", "classifier"}, forward: fwdDenseNet},
		tvDenseNet + "_DenseBlock": {layers: tvDenseLyr, forward: fwdDenseBlock},
		// drop_rate: F.dropout(training=self.training), the identity in
		// inference; memory_efficient: checkpointing, the same values.
		tvDenseLyr: {attrs: map[string]attrCheck{"drop_rate": wantNumber, "memory_efficient": wantBool},
			children: []string{"norm1", "relu1", "conv1", "norm2", "relu2", "conv2"},
			forward: func(t *tree, m *Module, path string, x *graph.Value) (*graph.Value, error) {
				return fwdDenseLayer(t, m, path, []*graph.Value{x})
			}},
		tvDenseNet + "_Transition": seq(nil),

		tvModels + "vgg.VGG":         pooled(nil),
		tvModels + "alexnet.AlexNet": pooled(nil),

		tvConvNeXt + "ConvNeXt":    {children: []string{"features", "avgpool", "classifier"}, forward: fwdConvNeXt},
		tvConvNeXt + "CNBlock":     {children: []string{"block", "stochastic_depth"}, forward: fwdCNBlock},
		tvConvNeXt + "LayerNorm2d": {leaf: "LayerNorm", forward: fwdLayerNorm2d},
	}
}

var googLeNetTrunk = []string{"conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b", "maxpool3",
	"inception4a", "inception4b", "inception4c", "inception4d", "inception4e", "maxpool4", "inception5a", "inception5b",
	"avgpool", "dropout", "fc"}

func fwdIdentity(_ *tree, _ *Module, _ string, x *graph.Value) (*graph.Value, error) { return x, nil }

// fwdPooled: x = self.features(x); x = self.avgpool(x); x = torch.flatten(x, 1); x = self.classifier(x)
// (VGG, AlexNet, MobileNetV3, EfficientNet).
func fwdPooled(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	x, err := t.calls(m, p, x, "features", "avgpool")
	if err != nil {
		return nil, err
	}
	if x, err = t.flatten(p, x); err != nil {
		return nil, err
	}
	return t.call(m, p, "classifier", x)
}

// fwdResidual: result = self.<body>(input); if self.<flag>: [result =
// self.stochastic_depth(result)]; result += input (MobileNetV3's
// InvertedResidual, EfficientNet's MBConv and FusedMBConv: in place),
// input + self.<body>(input) (MobileNetV2's, MNASNet's).
func fwdResidual(body, flag, drop string, inplace bool) func(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	return func(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
		y, err := t.call(m, p, body, x)
		if err != nil || !boolAttr(m, flag) {
			return y, err
		}
		if drop != "" {
			if y, err = t.call(m, p, drop, y); err != nil {
				return nil, err
			}
		}
		if inplace {
			return t.fnInplace(p, "add", nil, y, x)
		}
		return t.fn(p, "add", nil, x, y)
	}
}

// fwdSqueezeExcitation: scale = scale_activation(fc2(activation(fc1(avgpool(input))))); return scale * input.
func fwdSqueezeExcitation(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	s, err := t.calls(m, p, x, "avgpool", "fc1", "activation", "fc2", "scale_activation")
	if err != nil {
		return nil, err
	}
	return t.fn(p, "mul", nil, s, x)
}

// fwdPermute: torch.permute(x, self.dims).
func fwdPermute(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	return t.fn(p, "permute", args{"dims": plain(m.Attrs["dims"])}, x)
}

// fwdResNet: conv1, bn1, relu, maxpool, layer1-4, avgpool, torch.flatten(x, 1), fc.
func fwdResNet(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	x, err := t.calls(m, p, x, "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool")
	if err != nil {
		return nil, err
	}
	if x, err = t.flatten(p, x); err != nil {
		return nil, err
	}
	return t.call(m, p, "fc", x)
}

// fwdResBlock: out = <body>(x); identity = downsample(x) if
// downsample is not None else x; out += identity; out = relu(out)
// (BasicBlock, Bottleneck).
func fwdResBlock(body ...string) func(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	return func(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
		out, err := t.calls(m, p, x, body...)
		if err != nil {
			return nil, err
		}
		id := x
		if child(m, "downsample") != nil {
			if id, err = t.call(m, p, "downsample", x); err != nil {
				return nil, err
			}
		}
		if out, err = t.fnInplace(p, "add", nil, out, id); err != nil {
			return nil, err
		}
		return t.call(m, p, "relu", out)
	}
}

// fwdMobileNetV2: features, F.adaptive_avg_pool2d(x, (1, 1)), torch.flatten(x, 1), classifier.
func fwdMobileNetV2(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	x, err := t.call(m, p, "features", x)
	if err != nil {
		return nil, err
	}
	if x, err = t.fn(p, "adaptiveavgpool2d", args{"output_size": []any{1, 1}}, x); err != nil {
		return nil, err
	}
	if x, err = t.flatten(p, x); err != nil {
		return nil, err
	}
	return t.call(m, p, "classifier", x)
}

// fwdShuffleNetV2: conv1, maxpool, stage2-4, conv5, x.mean([2, 3]), fc.
func fwdShuffleNetV2(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	x, err := t.calls(m, p, x, "conv1", "maxpool", "stage2", "stage3", "stage4", "conv5")
	if err != nil {
		return nil, err
	}
	if x, err = t.fn(p, "mean", args{"dim": []any{2, 3}}, x); err != nil {
		return nil, err
	}
	return t.call(m, p, "fc", x)
}

// fwdShuffleBlock: if self.stride == 1: x1, x2 = x.chunk(2, dim=1); out =
// torch.cat((x1, self.branch2(x2)), dim=1); else: out =
// torch.cat((self.branch1(x), self.branch2(x)), dim=1); out =
// channel_shuffle(out, 2).
func fwdShuffleBlock(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	stride, _ := plain(m.Attrs["stride"]).(int)
	where := orRoot(p) + " (InvertedResidual)"
	var parts []*graph.Value
	switch {
	case stride == 1:
		// branch1 is an empty Sequential that forward never runs: refuse
		// anything in it rather than ignore it.
		if b1 := child(m, "branch1"); b1 != nil && len(orderedEntries(b1.Attrs["_modules"])) > 0 {
			return nil, &Error{File: t.f.Path, Where: where, Err: fmt.Errorf("stride 1 with a non-empty branch1, which forward does not run")}
		}
		if len(x.Shape) != 4 || x.Shape[1] < 2 {
			return nil, &Error{File: t.f.Path, Where: where, Err: fmt.Errorf("input %v: x.chunk(2, dim=1) needs [N, C>=2, H, W]", x.Shape)}
		}
		c := x.Shape[1]
		half := (c + 1) / 2 // torch.chunk: chunks of ceil(C/2)
		x1, err := t.e.op(orRoot(p)+"/chunk0", &graph.Slice{Begin: []int{0, 0, 0, 0}, End: []int{x.Shape[0], half, x.Shape[2], x.Shape[3]}}, x)
		if err != nil {
			return nil, &Error{File: t.f.Path, Where: where, Err: err}
		}
		x2, err := t.e.op(orRoot(p)+"/chunk1", &graph.Slice{Begin: []int{0, half, 0, 0}, End: slices.Clone(x.Shape)}, x)
		if err != nil {
			return nil, &Error{File: t.f.Path, Where: where, Err: err}
		}
		t.read(orRoot(p)+"/chunk", x)
		y2, err := t.call(m, p, "branch2", x2)
		if err != nil {
			return nil, err
		}
		parts = []*graph.Value{x1, y2}
	case stride == 2 || stride == 3:
		y1, err := t.call(m, p, "branch1", x)
		if err != nil {
			return nil, err
		}
		y2, err := t.call(m, p, "branch2", x)
		if err != nil {
			return nil, err
		}
		parts = []*graph.Value{y1, y2}
	default:
		return nil, &Error{File: t.f.Path, Where: where, Err: fmt.Errorf("stride %v: torchvision accepts 1 to 3", m.Attrs["stride"])}
	}
	out, err := t.fn(p, "cat", args{"dim": 1}, parts...)
	if err != nil {
		return nil, err
	}
	return t.channelShuffle(p, out, 2)
}

// channelShuffle is torchvision's channel_shuffle(x, groups):
// x.view(b, groups, c // groups, h, w); torch.transpose(x, 1, 2); x.view(b, -1, h, w).
func (t *tree) channelShuffle(p string, x *graph.Value, groups int) (*graph.Value, error) {
	where := orRoot(p) + "/channel_shuffle"
	if len(x.Shape) != 4 || x.Shape[1]%groups != 0 {
		return nil, &Error{File: t.f.Path, Where: where, Err: fmt.Errorf("input %v: %d groups do not divide the channels", x.Shape, groups)}
	}
	c, h, w := x.Shape[1], x.Shape[2], x.Shape[3]
	t.read(where, x)
	v, err := t.e.op(where+"/view", &graph.Reshape{Shape: []int{0, groups, c / groups, h, w}}, x)
	if err == nil {
		v, err = t.e.op(where+"/transpose", &graph.Transpose{Perm: []int{0, 2, 1, 3, 4}}, v)
	}
	if err == nil {
		v, err = t.e.op(where, &graph.Reshape{Shape: []int{0, c, h, w}}, v)
	}
	if err != nil {
		return nil, &Error{File: t.f.Path, Where: where, Err: err}
	}
	return v, nil
}

// fwdSqueezeNet: x = features(x); x = classifier(x); return torch.flatten(x, 1).
func fwdSqueezeNet(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	x, err := t.calls(m, p, x, "features", "classifier")
	if err != nil {
		return nil, err
	}
	return t.flatten(p, x)
}

// fwdFire: x = squeeze_activation(squeeze(x)); torch.cat([expand1x1_activation(expand1x1(x)),
// expand3x3_activation(expand3x3(x))], 1).
func fwdFire(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	s, err := t.calls(m, p, x, "squeeze", "squeeze_activation")
	if err != nil {
		return nil, err
	}
	a, err := t.calls(m, p, s, "expand1x1", "expand1x1_activation")
	if err != nil {
		return nil, err
	}
	b, err := t.calls(m, p, s, "expand3x3", "expand3x3_activation")
	if err != nil {
		return nil, err
	}
	return t.fn(p, "cat", args{"dim": 1}, a, b)
}

// fwdMNASNet: x = layers(x); x = x.mean([2, 3]); classifier(x).
func fwdMNASNet(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	x, err := t.call(m, p, "layers", x)
	if err != nil {
		return nil, err
	}
	if x, err = t.fn(p, "mean", args{"dim": []any{2, 3}}, x); err != nil {
		return nil, err
	}
	return t.call(m, p, "classifier", x)
}

// fwdRegNet: stem, trunk_output, avgpool, x.flatten(start_dim=1), fc.
func fwdRegNet(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	x, err := t.calls(m, p, x, "stem", "trunk_output", "avgpool")
	if err != nil {
		return nil, err
	}
	if x, err = t.flatten(p, x); err != nil {
		return nil, err
	}
	return t.call(m, p, "fc", x)
}

// fwdResBottleneck: x = proj(x) + f(x) if proj is not None else x + f(x); activation(x).
func fwdResBottleneck(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	y, err := t.call(m, p, "f", x)
	if err != nil {
		return nil, err
	}
	id := x
	if child(m, "proj") != nil {
		if id, err = t.call(m, p, "proj", x); err != nil {
			return nil, err
		}
	}
	s, err := t.fn(p, "add", nil, id, y)
	if err != nil {
		return nil, err
	}
	return t.call(m, p, "activation", s)
}

// fwdGoogLeNet: the trunk in order with torch.flatten(x, 1) after avgpool;
// aux1 and aux2 run only in training (refused with aux_logits by
// libraryState), so their tensors are reported as ignored.
func fwdGoogLeNet(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	for _, aux := range []string{"aux1", "aux2"} {
		if child(m, aux) != nil {
			t.skipped = append(t.skipped, joinPath(p, aux))
		}
	}
	trunk := googLeNetTrunk[:slices.Index(googLeNetTrunk, "avgpool")+1]
	x, err := t.calls(m, p, x, trunk...)
	if err != nil {
		return nil, err
	}
	if x, err = t.flatten(p, x); err != nil {
		return nil, err
	}
	return t.calls(m, p, x, "dropout", "fc")
}

// fwdInception: torch.cat([branch1(x), branch2(x), branch3(x), branch4(x)], 1).
func fwdInception(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	var outs []*graph.Value
	for _, b := range []string{"branch1", "branch2", "branch3", "branch4"} {
		y, err := t.call(m, p, b, x)
		if err != nil {
			return nil, err
		}
		outs = append(outs, y)
	}
	return t.fn(p, "cat", args{"dim": 1}, outs...)
}

// fwdBasicConv2d: x = conv(x); x = bn(x); F.relu(x, inplace=True).
func fwdBasicConv2d(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	x, err := t.calls(m, p, x, "conv", "bn")
	if err != nil {
		return nil, err
	}
	return t.fnInplace(p, "relu", nil, x)
}

// fwdDenseNet: features = self.features(x); F.relu; F.adaptive_avg_pool2d(out, (1, 1));
// torch.flatten(out, 1); classifier.
func fwdDenseNet(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	x, err := t.call(m, p, "features", x)
	if err != nil {
		return nil, err
	}
	if x, err = t.fnInplace(p, "relu", nil, x); err != nil {
		return nil, err
	}
	if x, err = t.fn(p, "adaptiveavgpool2d", args{"output_size": []any{1, 1}}, x); err != nil {
		return nil, err
	}
	if x, err = t.flatten(p, x); err != nil {
		return nil, err
	}
	return t.call(m, p, "classifier", x)
}

// fwdDenseBlock: features = [init]; for layer in self.values():
// features.append(layer(features)); torch.cat(features, 1).
func fwdDenseBlock(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	feats := []*graph.Value{x}
	for _, e := range orderedEntries(m.Attrs["_modules"]) {
		name := joinPath(p, fmt.Sprint(e.Key))
		l, ok := e.Value.(*Module)
		if !ok || l.Class != tvDenseLyr {
			return nil, &Error{File: t.f.Path, Where: name, Err: fmt.Errorf("a _DenseBlock layer that is %s, not torchvision's _DenseLayer (its forward takes the list of features)", classOf(e.Value))}
		}
		y, err := fwdDenseLayer(t, l, name, feats)
		if err != nil {
			return nil, err
		}
		feats = append(feats, y)
	}
	if len(feats) == 1 {
		return x, nil
	}
	return t.fn(p, "cat", args{"dim": 1}, feats...)
}

func classOf(v any) string {
	if m, ok := v.(*Module); ok {
		return m.Class
	}
	return fmt.Sprintf("%T", v)
}

// fwdDenseLayer: conv1(relu1(norm1(torch.cat(inputs, 1)))), then
// conv2(relu2(norm2(.))); F.dropout(training=False) is the identity.
func fwdDenseLayer(t *tree, m *Module, p string, in []*graph.Value) (*graph.Value, error) {
	x := in[0]
	if len(in) > 1 {
		var err error
		if x, err = t.fn(p, "cat", args{"dim": 1}, in...); err != nil {
			return nil, err
		}
	}
	return t.calls(m, p, x, "norm1", "relu1", "conv1", "norm2", "relu2", "conv2")
}

// fwdConvNeXt: features, avgpool, classifier (which holds its LayerNorm2d,
// Flatten and Linear).
func fwdConvNeXt(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	return t.calls(m, p, x, "features", "avgpool", "classifier")
}

// fwdCNBlock: result = self.layer_scale * self.block(input); result =
// self.stochastic_depth(result); result += input.
func fwdCNBlock(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	y, err := t.call(m, p, "block", x)
	if err != nil {
		return nil, err
	}
	ls, err := t.e.weight(&step{Key: p}, "layer_scale", true)
	if err != nil {
		return nil, &Error{File: t.f.Path, Where: orRoot(p) + " (CNBlock)", Err: err}
	}
	if y, err = t.fn(p, "mul", nil, ls, y); err != nil {
		return nil, err
	}
	if y, err = t.call(m, p, "stochastic_depth", y); err != nil {
		return nil, err
	}
	return t.fnInplace(p, "add", nil, y, x)
}

// fwdLayerNorm2d: x.permute(0, 2, 3, 1); F.layer_norm(x, normalized_shape,
// weight, bias, eps); x.permute(0, 3, 1, 2).
func fwdLayerNorm2d(t *tree, m *Module, p string, x *graph.Value) (*graph.Value, error) {
	spec := moduleSpecs["LayerNorm"]
	a, bad := moduleArgs(m, spec, true)
	where := orRoot(p) + " (LayerNorm2d)"
	if len(bad) > 0 {
		return nil, &Error{File: t.f.Path, Where: where, Err: fmt.Errorf("%v", bad)}
	}
	x, err := t.fn(p, "permute", args{"dims": []any{0, 2, 3, 1}}, x)
	if err != nil {
		return nil, err
	}
	s := &step{Where: where, Op: spec.op, Kind: "LayerNorm2d", Key: p, Name: orRoot(p), Args: a}
	in := x
	if x, err = ops[spec.op].emit(t.e, s, []*graph.Value{x}); err != nil {
		return nil, &Error{File: t.f.Path, Where: where, Err: err}
	}
	t.read(where, in)
	return t.fn(p, "permute", args{"dims": []any{0, 3, 1, 2}}, x)
}
