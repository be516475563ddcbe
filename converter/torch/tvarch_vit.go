package torch

import "fmt"

// The VisionTransformer builders (torchvision 0.29's vision_transformer.py
// vit_b_16 ... vit_h_14): the tree is run by the library builder of a
// pickled VisionTransformer (module_transformer.go).

// vitConfigs are the builders' patch_size, num_layers, num_heads,
// hidden_dim and mlp_dim.
var vitConfigs = map[string][5]int{
	"vit_b_16": {16, 12, 12, 768, 3072}, "vit_b_32": {32, 12, 12, 768, 3072},
	"vit_l_16": {16, 24, 16, 1024, 4096}, "vit_l_32": {32, 24, 16, 1024, 4096},
	"vit_h_14": {14, 32, 16, 1280, 5120},
}

// vit is torchvision's VisionTransformer(image_size, patch_size,
// num_layers, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout,
// num_classes, representation_size) with LayerNorm eps 1e-6.
func (b *tvb) vit(a args, c [5]int) (*Module, error) {
	nc, err := numClasses(a)
	if err != nil {
		return nil, err
	}
	size, err := posInt(a, "image_size", 224)
	if err != nil {
		return nil, err
	}
	rep, err := a.integer("representation_size", 0)
	if err != nil || rep < 0 {
		return nil, fmt.Errorf("representation_size = %v: want a positive int or null", a["representation_size"])
	}
	for _, k := range []string{"dropout", "attention_dropout"} {
		if _, err := a.float(k, 0); err != nil {
			return nil, err
		}
	}
	p, layers, heads, d, mlp := c[0], c[1], c[2], c[3], c[4]
	if size%p != 0 {
		return nil, fmt.Errorf("image_size %d is not a multiple of the patch size %d (torchvision raises)", size, p)
	}
	const eps = 1e-6
	ln := func() *Module {
		return b.mod("torch.nn.modules.normalization.LayerNorm", map[string]any{"normalized_shape": []any{d}, "eps": eps, "elementwise_affine": true})
	}
	var blocks []any
	for i := range layers {
		out := b.linear(d, d)
		out.Class = "torch.nn.modules.linear.NonDynamicallyQuantizableLinear"
		attn := b.mod("torch.nn.modules.activation.MultiheadAttention", map[string]any{"embed_dim": d, "kdim": d, "vdim": d,
			"_qkv_same_embed_dim": true, "num_heads": heads, "batch_first": true, "head_dim": d / heads, "bias_k": nil, "bias_v": nil,
			"add_zero_attn": false, "dropout": 0.0}, "out_proj", out)
		mlpM := b.mod("torchvision.models.vision_transformer.MLPBlock", nil, "0", b.linear(d, mlp), "1", b.act("GELU"),
			"2", b.dropout(0), "3", b.linear(mlp, d), "4", b.dropout(0))
		blocks = append(blocks, fmt.Sprintf("encoder_layer_%d", i), b.mod("torchvision.models.vision_transformer.EncoderBlock",
			map[string]any{"num_heads": heads}, "ln_1", ln(), "self_attention", attn, "dropout", b.dropout(0), "ln_2", ln(), "mlp", mlpM))
	}
	enc := b.named("torch.nn.modules.container.Sequential", nil, blocks...)
	sl := (size/p)*(size/p) + 1
	encoder := b.mod("torchvision.models.vision_transformer.Encoder", nil, "dropout", b.dropout(0), "layers", enc, "ln", ln())
	b.posEmb[encoder] = []int{1, sl, d}
	var head []any
	if rep > 0 {
		head = append(head, "pre_logits", b.linear(d, rep), "act", b.mod("torch.nn.modules.activation.Tanh", nil), "head", b.linear(rep, nc))
	} else {
		head = append(head, "head", b.linear(d, nc))
	}
	conv := b.conv(3, d, p, p, 0, 1, true)
	root := b.mod("torchvision.models.vision_transformer.VisionTransformer",
		map[string]any{"image_size": size, "patch_size": p, "hidden_dim": d, "seq_length": sl},
		"conv_proj", conv, "encoder", encoder, "heads", b.named("torch.nn.modules.container.Sequential", nil, head...))
	return root, nil
}

func addViTBuilders(m map[string]*tvBuilder) {
	for name, c := range vitConfigs {
		m[name] = &tvBuilder{args: []string{"num_classes", "image_size", "representation_size", "dropout", "attention_dropout"},
			build: func(b *tvb, a args) (*Module, error) { return b.vit(a, c) }}
	}
}
