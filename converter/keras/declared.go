package keras

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// checkDeclared compares the sizes a layer's config declares (Dense
// units; a convolution's filters, kernel_size, depth_multiplier and
// groups) with the shapes of the weights the file stores for it. A file
// whose config says units: 2^40 while its kernel is [8, 4] is refused
// naming the field, never read with the weights' sizes in place of the
// declared ones: the two do not belong together, and which one the author
// meant is not ours to guess. (Embedding's input_dim and output_dim and a
// BatchNormalization's axis size are checked where those layers are
// mapped.) inC is the channels of the layer's input (its last axis).
func (lc *layerCtx) checkDeclared(inC int) error {
	shapeOf := func(v string) []int {
		if t := lc.weights[v]; t != nil {
			return t.Shape
		}
		return nil
	}
	switch p := lc.l.Params.(type) {
	case *DenseConfig:
		k := shapeOf("kernel")
		if len(k) != 2 {
			return fmt.Errorf("weight kernel has shape %v, want [input features, units]", k)
		}
		if k[1] != p.Units {
			return declaredErr("units", p.Units, "kernel", k, fmt.Sprintf("%d units", k[1]))
		}
		return lc.checkBias(p.UseBias, p.Units, "units")
	case *ConvConfig:
		return lc.checkConvDeclared(p, inC, shapeOf)
	}
	return nil
}

// checkConvDeclared is checkDeclared for the convolutions: Keras stores a
// kernel as [kernel_size..., in/groups, filters] (Conv1D/2D), [kernel_size...,
// filters, in] (Conv2DTranspose), [kernel_size..., in, depth_multiplier]
// (DepthwiseConv1D/2D and a Separable layer's depthwise_kernel) and a
// Separable layer's pointwise_kernel as [1..., in*depth_multiplier,
// filters].
func (lc *layerCtx) checkConvDeclared(p *ConvConfig, inC int, shapeOf func(string) []int) error {
	r := p.Rank
	spatial := func(v string, s []int) error {
		if len(s) != r+2 {
			return fmt.Errorf("weight %s has shape %v, want rank %d", v, s, r+2)
		}
		if !slices.Equal(s[:r], p.KernelSize) {
			return declaredErr("kernel_size", p.KernelSize, v, s, fmt.Sprintf("a %v kernel", s[:r]))
		}
		return nil
	}
	class := lc.l.Class
	switch {
	case strings.HasPrefix(class, "Depthwise"), strings.HasPrefix(class, "Separable"):
		v := "kernel"
		if strings.HasPrefix(class, "Separable") {
			v = "depthwise_kernel"
		}
		s := shapeOf(v)
		if err := spatial(v, s); err != nil {
			return err
		}
		if s[r+1] != p.DepthMultiplier {
			return declaredErr("depth_multiplier", p.DepthMultiplier, v, s, fmt.Sprintf("a multiplier of %d", s[r+1]))
		}
		if s[r] != inC {
			return fmt.Errorf("weight %s has shape %v for %d input channels, but the input has %d", v, s, s[r], inC)
		}
		if v == "kernel" {
			return lc.checkBias(p.UseBias, inC*p.DepthMultiplier, "depth_multiplier")
		}
		pw := shapeOf("pointwise_kernel")
		want := append(slices.Repeat([]int{1}, r), inC*p.DepthMultiplier, p.Filters)
		if len(pw) == len(want) && slices.Equal(pw[:r+1], want[:r+1]) && pw[r+1] != p.Filters {
			return declaredErr("filters", p.Filters, "pointwise_kernel", pw, fmt.Sprintf("%d filters", pw[r+1]))
		}
		if !slices.Equal(pw, want) {
			return fmt.Errorf("weight pointwise_kernel has shape %v, want %v (input channels × depth_multiplier, filters)", pw, want)
		}
		return lc.checkBias(p.UseBias, p.Filters, "filters")
	case class == "Conv2DTranspose":
		s := shapeOf("kernel")
		if err := spatial("kernel", s); err != nil {
			return err
		}
		if s[r] != p.Filters {
			return declaredErr("filters", p.Filters, "kernel", s, fmt.Sprintf("%d filters", s[r]))
		}
		if s[r+1] != inC {
			return fmt.Errorf("weight kernel has shape %v for %d input channels, but the input has %d", s, s[r+1], inC)
		}
		return lc.checkBias(p.UseBias, p.Filters, "filters")
	}
	s := shapeOf("kernel")
	if err := spatial("kernel", s); err != nil {
		return err
	}
	if s[r+1] != p.Filters {
		return declaredErr("filters", p.Filters, "kernel", s, fmt.Sprintf("%d filters", s[r+1]))
	}
	if p.Groups < 1 || inC%p.Groups != 0 || s[r]*p.Groups != inC {
		return declaredErr("groups", p.Groups, "kernel", s, fmt.Sprintf("%d input channels per group for an input of %d channels", s[r], inC))
	}
	return lc.checkBias(p.UseBias, p.Filters, "filters")
}

// checkBias checks that the bias (when the layer has one) holds n values,
// n being what field declares.
func (lc *layerCtx) checkBias(useBias bool, n int, field string) error {
	if !useBias {
		return nil
	}
	b := lc.weights["bias"]
	if b == nil {
		return nil // varOrder has refused a missing bias
	}
	if !slices.Equal(b.Shape, []int{n}) {
		return fmt.Errorf("weight bias has shape %v, want [%d] (from %s)", b.Shape, n, field)
	}
	return nil
}

// declaredErr is a config field contradicted by a weight's shape.
func declaredErr(field string, declared any, weight string, shape []int, says string) *FieldError {
	v := fmt.Sprint(declared)
	if d, ok := declared.([]int); ok {
		parts := make([]string, len(d))
		for i, x := range d {
			parts[i] = strconv.Itoa(x)
		}
		v = "[" + strings.Join(parts, ", ") + "]"
	}
	return &FieldError{Where: InLayerConfig, Field: field, Value: v,
		Reason: fmt.Sprintf("contradicts the stored weight %s of shape %v (%s): the configuration and the weights do not belong together", weight, shape, says)}
}
