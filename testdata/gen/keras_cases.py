"""The Keras cases of the corpus: one entry per layer configuration.

Each case builds its model with the functional API through L, the layers
module of either tf_keras (Keras 2) or keras (Keras 3), so the same code makes
both; the generator copies the weights from one to the other.
"""

from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple


@dataclass
class Case:
    name: str
    layers: List[str]  # layer classes the case covers
    config: str  # the configuration, in words
    inputs: List[Tuple[tuple, str]]  # (shape without batch, dtype)
    build: Callable  # build(L, inputs) -> output tensor or list
    lo: float = -1.0
    hi: float = 1.0
    quant: bool = False  # also write float16 / dynamic / int8 TFLite conversions
    k3: bool = True  # also build with Keras 3
    names: Optional[List[str]] = None  # input names
    notes: Optional[str] = None  # written to case.json "notes" (what the case is there to catch)
    calibrate: Optional[dict] = None  # calibrate BatchNorm statistics on the inputs ({"beta": mean of the offsets} optional)
    f64: bool = False  # record the float32-vs-float64 drift of the framework's outputs in case.json
    make_inputs: Optional[Callable] = None  # make_inputs(rng, batch) -> list of input arrays, instead of uniform [lo, hi)
    tf_batch1: bool = False  # convert with TF from a batch_size=1 copy (the TF converter needs a static batch for RNNs)
    model: Optional[Callable] = None  # model(K) -> the whole model (nested Sequential/Functional), instead of build


CASES: List[Case] = []


def add(name, layers, config, inputs, build, **kw):
    if isinstance(layers, str):
        layers = [layers]
    CASES.append(Case(name, layers, config, inputs, build, **kw))


IMG = ((9, 11, 3), "float32")  # odd spatial size, 3 channels
IMG6 = ((8, 7, 6), "float32")
SEQ = ((13, 5), "float32")
VEC = ((10,), "float32")

# Dense
add("dense_relu", "Dense", "units=5 relu fused", [VEC], lambda L, x: L.Dense(5, activation="relu")(x[0]))
add("dense_nobias", "Dense", "units=7 use_bias=False linear", [VEC], lambda L, x: L.Dense(7, use_bias=False)(x[0]))
add("dense_rank3", "Dense", "units=3 on a rank-3 input (applies to last axis)", [SEQ], lambda L, x: L.Dense(3, activation="tanh")(x[0]))
add("dense_softmax", "Dense", "units=6 softmax fused", [VEC], lambda L, x: L.Dense(6, activation="softmax")(x[0]))

# Conv1D
add("conv1d_k3_same", "Conv1D", "k3 s1 same, 4 filters", [SEQ], lambda L, x: L.Conv1D(4, 3, padding="same")(x[0]))
add("conv1d_k5_s2_valid", "Conv1D", "k5 s2 valid relu", [SEQ], lambda L, x: L.Conv1D(6, 5, strides=2, activation="relu")(x[0]))
add("conv1d_causal_d2", "Conv1D", "k3 dilation 2 causal", [SEQ], lambda L, x: L.Conv1D(3, 3, dilation_rate=2, padding="causal")(x[0]))
add("conv1d_groups", "Conv1D", "k3 groups=2 (6->4 channels) same", [((11, 6), "float32")], lambda L, x: L.Conv1D(4, 3, groups=2, padding="same")(x[0]))

# Conv2D
add("conv2d_k3_same", "Conv2D", "k3 s1 same, 5 filters", [IMG], lambda L, x: L.Conv2D(5, 3, padding="same")(x[0]))
add("conv2d_k3_s2_valid", "Conv2D", "k3 s2 valid on odd size", [IMG], lambda L, x: L.Conv2D(5, 3, strides=2)(x[0]))
add("conv2d_k3_s2_same", "Conv2D", "k3 s2 same on odd size (asymmetric pad)", [IMG], lambda L, x: L.Conv2D(7, 3, strides=2, padding="same")(x[0]))
add("conv2d_k4_s2_same", "Conv2D", "k4 s2 same (even kernel)", [IMG6], lambda L, x: L.Conv2D(3, 4, strides=2, padding="same")(x[0]))
add("conv2d_k5_d2_same", "Conv2D", "k5 dilation 2 same", [((13, 12, 2), "float32")], lambda L, x: L.Conv2D(4, 5, dilation_rate=2, padding="same")(x[0]))
add("conv2d_k3_d2_valid", "Conv2D", "k3 dilation (2,3) valid", [((13, 12, 2), "float32")], lambda L, x: L.Conv2D(4, 3, dilation_rate=(2, 3))(x[0]))
add("conv2d_k1", "Conv2D", "k1 pointwise no bias", [IMG6], lambda L, x: L.Conv2D(9, 1, use_bias=False)(x[0]))
add("conv2d_k3x1_s21", "Conv2D", "k(3,1) strides (2,1) same", [IMG], lambda L, x: L.Conv2D(5, (3, 1), strides=(2, 1), padding="same")(x[0]))
add("conv2d_groups2", "Conv2D", "k3 groups=2 (6->4) same", [IMG6], lambda L, x: L.Conv2D(4, 3, groups=2, padding="same")(x[0]))
add("conv2d_groups3_relu", "Conv2D", "k3 groups=3 (6->9) valid relu", [IMG6], lambda L, x: L.Conv2D(9, 3, groups=3, activation="relu")(x[0]))
add("conv2d_relu", "Conv2D", "k3 same relu fused", [IMG], lambda L, x: L.Conv2D(5, 3, padding="same", activation="relu")(x[0]))
add("conv2d_sigmoid", "Conv2D", "k3 valid sigmoid fused", [IMG], lambda L, x: L.Conv2D(5, 3, activation="sigmoid")(x[0]))
add("conv2d_relu_layer", ["Conv2D", "ReLU"], "k3 same, separate ReLU layer", [IMG], lambda L, x: L.ReLU()(L.Conv2D(5, 3, padding="same")(x[0])))

# DepthwiseConv2D
add("dwconv_k3_same", "DepthwiseConv2D", "k3 s1 same dm1", [IMG6], lambda L, x: L.DepthwiseConv2D(3, padding="same")(x[0]))
add("dwconv_k3_s2_dm2", "DepthwiseConv2D", "k3 s2 valid depth_multiplier 2", [IMG], lambda L, x: L.DepthwiseConv2D(3, strides=2, depth_multiplier=2)(x[0]))
add("dwconv_k3_s2_same", "DepthwiseConv2D", "k3 s2 same on odd size", [IMG], lambda L, x: L.DepthwiseConv2D(3, strides=2, padding="same")(x[0]))
add("dwconv_k3_d2", "DepthwiseConv2D", "k3 dilation 2 same", [((12, 13, 5), "float32")], lambda L, x: L.DepthwiseConv2D(3, dilation_rate=2, padding="same")(x[0]))
add("dwconv_k5_relu", "DepthwiseConv2D", "k5 valid relu fused no bias", [IMG6], lambda L, x: L.DepthwiseConv2D(5, activation="relu", use_bias=False)(x[0]))

# SeparableConv2D
add("sepconv_k3_same", "SeparableConv2D", "k3 same 7 filters", [IMG], lambda L, x: L.SeparableConv2D(7, 3, padding="same")(x[0]))
add("sepconv_k3_s2_dm2", "SeparableConv2D", "k3 s2 valid dm2 relu", [IMG6], lambda L, x: L.SeparableConv2D(5, 3, strides=2, depth_multiplier=2, activation="relu")(x[0]))

# Conv2DTranspose
add("convT_k3_s2_same", "Conv2DTranspose", "k3 s2 same", [IMG6], lambda L, x: L.Conv2DTranspose(5, 3, strides=2, padding="same")(x[0]))
add("convT_k2_s2_valid", "Conv2DTranspose", "k2 s2 valid", [IMG], lambda L, x: L.Conv2DTranspose(4, 2, strides=2)(x[0]))
add("convT_k3_s1_valid", "Conv2DTranspose", "k3 s1 valid relu", [IMG], lambda L, x: L.Conv2DTranspose(3, 3, activation="relu")(x[0]))
add("convT_k4_s2_same", "Conv2DTranspose", "k4 s2 same on odd size, no bias", [IMG], lambda L, x: L.Conv2DTranspose(6, 4, strides=2, padding="same", use_bias=False)(x[0]))

# Pooling 2D
add("maxpool2d_2", "MaxPooling2D", "pool 2 (odd size floors)", [IMG], lambda L, x: L.MaxPooling2D(2)(x[0]))
add("maxpool2d_3_s2_same", "MaxPooling2D", "pool 3 s2 same", [IMG], lambda L, x: L.MaxPooling2D(3, strides=2, padding="same")(x[0]))
add("maxpool2d_3_s1_valid", "MaxPooling2D", "pool (3,2) s1 valid", [IMG6], lambda L, x: L.MaxPooling2D((3, 2), strides=1)(x[0]))
add("avgpool2d_2", "AveragePooling2D", "pool 2", [IMG6], lambda L, x: L.AveragePooling2D(2)(x[0]))
add("avgpool2d_3_s2_same", "AveragePooling2D", "pool 3 s2 same (padding excluded from the mean)", [IMG], lambda L, x: L.AveragePooling2D(3, strides=2, padding="same")(x[0]))
add("avgpool2d_3_s1_valid", "AveragePooling2D", "pool 3 s1 valid", [IMG], lambda L, x: L.AveragePooling2D(3, strides=1)(x[0]))
# Pooling 1D
add("maxpool1d_2", "MaxPooling1D", "pool 2", [SEQ], lambda L, x: L.MaxPooling1D(2)(x[0]))
add("maxpool1d_3_s2_same", "MaxPooling1D", "pool 3 s2 same", [SEQ], lambda L, x: L.MaxPooling1D(3, strides=2, padding="same")(x[0]))
add("avgpool1d_2", "AveragePooling1D", "pool 2", [SEQ], lambda L, x: L.AveragePooling1D(2)(x[0]))
add("avgpool1d_3_s2_same", "AveragePooling1D", "pool 3 s2 same", [SEQ], lambda L, x: L.AveragePooling1D(3, strides=2, padding="same")(x[0]))
# Global pooling
add("gap2d", "GlobalAveragePooling2D", "default", [IMG], lambda L, x: L.GlobalAveragePooling2D()(x[0]))
add("gap2d_keepdims", "GlobalAveragePooling2D", "keepdims=True", [IMG6], lambda L, x: L.GlobalAveragePooling2D(keepdims=True)(x[0]))
add("gmp2d", "GlobalMaxPooling2D", "default", [IMG], lambda L, x: L.GlobalMaxPooling2D()(x[0]))
add("gmp2d_keepdims", "GlobalMaxPooling2D", "keepdims=True", [IMG6], lambda L, x: L.GlobalMaxPooling2D(keepdims=True)(x[0]))
add("gap1d", "GlobalAveragePooling1D", "default", [SEQ], lambda L, x: L.GlobalAveragePooling1D()(x[0]))
add("gmp1d", "GlobalMaxPooling1D", "default", [SEQ], lambda L, x: L.GlobalMaxPooling1D()(x[0]))

# BatchNormalization
add("bn_after_conv", ["BatchNormalization", "Conv2D"], "after conv (foldable), eps 1e-3", [IMG], lambda L, x: L.BatchNormalization()(L.Conv2D(5, 3, padding="same", use_bias=False)(x[0])))
add("bn_standalone_img", "BatchNormalization", "on the input, eps 1e-2, momentum 0.9", [IMG6], lambda L, x: L.BatchNormalization(epsilon=1e-2, momentum=0.9)(x[0]))
add("bn_dense", ["BatchNormalization", "Dense"], "after Dense (rank 2)", [VEC], lambda L, x: L.BatchNormalization()(L.Dense(6)(x[0])))
add("bn_noscale_nocenter", "BatchNormalization", "center=False scale=False", [IMG6], lambda L, x: L.BatchNormalization(center=False, scale=False)(x[0]))
add("bn_axis1_seq", "BatchNormalization", "axis=1 on a sequence", [SEQ], lambda L, x: L.BatchNormalization(axis=1)(x[0]))
add("bn_conv_relu", ["BatchNormalization", "Conv2D", "Activation"], "conv+BN+relu (fold then fuse)", [IMG], lambda L, x: L.Activation("relu")(L.BatchNormalization()(L.Conv2D(6, 3, strides=2, padding="same")(x[0]))))

# Activations (Activation layer with a name, on a [-4,4] input)
for act in ["relu", "sigmoid", "hard_sigmoid", "tanh", "elu", "selu", "swish", "gelu", "softplus", "linear", "relu6", "hard_swish", "silu", "softsign"]:
    add(f"act_{act}", "Activation", f"Activation('{act}')", [IMG6], (lambda a: lambda L, x: L.Activation(a)(x[0]))(act), lo=-4, hi=4)
add("act_softmax_last", ["Activation", "Softmax"], "Activation('softmax') on rank 4", [IMG6], lambda L, x: L.Activation("softmax")(x[0]), lo=-4, hi=4)
add("dense_gelu", ["Dense", "Activation"], "Dense activation='gelu'", [VEC], lambda L, x: L.Dense(5, activation="gelu")(x[0]), lo=-3, hi=3)
add("dense_swish", ["Dense", "Activation"], "Dense activation='swish'", [VEC], lambda L, x: L.Dense(5, activation="swish")(x[0]), lo=-3, hi=3)
add("dense_elu", ["Dense", "Activation"], "Dense activation='elu'", [VEC], lambda L, x: L.Dense(5, activation="elu")(x[0]), lo=-3, hi=3)
# Standalone activation layers
add("relu_layer", "ReLU", "ReLU()", [IMG6], lambda L, x: L.ReLU()(x[0]), lo=-4, hi=4)
add("relu6_layer", "ReLU", "ReLU(max_value=6)", [IMG6], lambda L, x: L.ReLU(max_value=6.0)(x[0]), lo=-8, hi=8)
add("relu_leaky_thresh", "ReLU", "ReLU(negative_slope=0.1)", [IMG6], lambda L, x: L.ReLU(negative_slope=0.1)(x[0]), lo=-4, hi=4)
add("leakyrelu_default", "LeakyReLU", "default slope (0.3 in Keras 2, 0.3 in Keras 3)", [IMG6], lambda L, x: L.LeakyReLU()(x[0]), lo=-4, hi=4)
add("leakyrelu_0p1", "LeakyReLU", "slope 0.1", [IMG6], lambda L, x: L.LeakyReLU(0.1)(x[0]), lo=-4, hi=4)
add("prelu_full", "PReLU", "per-element alpha", [IMG6], lambda L, x: L.PReLU()(x[0]), lo=-4, hi=4)
add("prelu_shared", "PReLU", "shared_axes=[1,2] (per channel)", [IMG6], lambda L, x: L.PReLU(shared_axes=[1, 2])(x[0]), lo=-4, hi=4)
add("elu_layer", "ELU", "alpha 1.0", [IMG6], lambda L, x: L.ELU()(x[0]), lo=-4, hi=4)
add("elu_layer_0p5", "ELU", "alpha 0.5", [IMG6], lambda L, x: L.ELU(alpha=0.5)(x[0]), lo=-4, hi=4)
add("softmax_layer_last", "Softmax", "axis -1", [SEQ], lambda L, x: L.Softmax()(x[0]), lo=-4, hi=4)
add("softmax_layer_axis1", "Softmax", "axis 1", [SEQ], lambda L, x: L.Softmax(axis=1)(x[0]), lo=-4, hi=4)
add("softmax_layer_axis2_img", "Softmax", "axis 2 on rank 4", [IMG6], lambda L, x: L.Softmax(axis=2)(x[0]), lo=-4, hi=4)

# Shape layers
add("flatten_after_conv", ["Flatten", "Conv2D", "Dense"], "conv -> Flatten -> Dense (NHWC order)", [IMG], lambda L, x: L.Dense(4)(L.Flatten()(L.Conv2D(3, 3, strides=2)(x[0]))))
add("flatten_seq", "Flatten", "rank 3", [SEQ], lambda L, x: L.Flatten()(x[0]))
add("reshape_neg1", "Reshape", "(-1, 3)", [IMG6], lambda L, x: L.Reshape((-1, 3))(x[0]))
add("reshape_4d", "Reshape", "(7, 8, 6) swaps spatial sizes", [IMG6], lambda L, x: L.Reshape((7, 8, 6))(x[0]))
add("permute_213", "Permute", "(2,1,3)", [IMG6], lambda L, x: L.Permute((2, 1, 3))(x[0]))
add("permute_312", "Permute", "(3,1,2)", [IMG6], lambda L, x: L.Permute((3, 1, 2))(x[0]))
add("permute_seq", "Permute", "(2,1) on a sequence", [SEQ], lambda L, x: L.Permute((2, 1))(x[0]))
# Dropout family (identity at inference)
add("dropout", "Dropout", "rate 0.5 after Dense", [VEC], lambda L, x: L.Dense(4)(L.Dropout(0.5)(L.Dense(8)(x[0]))))
add("spatial_dropout2d", "SpatialDropout2D", "rate 0.3 after conv", [IMG], lambda L, x: L.SpatialDropout2D(0.3)(L.Conv2D(4, 3)(x[0])))
add("gaussian_noise", "GaussianNoise", "stddev 0.5", [VEC], lambda L, x: L.Dense(3)(L.GaussianNoise(0.5)(x[0])))
add("gaussian_dropout", "GaussianDropout", "rate 0.3", [VEC], lambda L, x: L.Dense(3)(L.GaussianDropout(0.3)(x[0])))
add("alpha_dropout", "AlphaDropout", "rate 0.2", [VEC], lambda L, x: L.Dense(3)(L.AlphaDropout(0.2)(x[0])))
# Padding / cropping / upsampling
add("zeropad_1", "ZeroPadding2D", "padding 1", [IMG], lambda L, x: L.ZeroPadding2D(1)(x[0]))
add("zeropad_asym", ["ZeroPadding2D", "Conv2D"], "((1,2),(0,3)) then conv", [IMG], lambda L, x: L.Conv2D(3, 3)(L.ZeroPadding2D(((1, 2), (0, 3)))(x[0])))
add("crop_1", "Cropping2D", "cropping 1", [IMG], lambda L, x: L.Cropping2D(1)(x[0]))
add("crop_asym", "Cropping2D", "((1,0),(2,1))", [IMG], lambda L, x: L.Cropping2D(((1, 0), (2, 1)))(x[0]))
add("upsample_nearest_2", "UpSampling2D", "size 2 nearest", [IMG6], lambda L, x: L.UpSampling2D(2)(x[0]))
add("upsample_nearest_23", "UpSampling2D", "size (2,3) nearest", [IMG], lambda L, x: L.UpSampling2D((2, 3))(x[0]))
add("upsample_bilinear_2", "UpSampling2D", "size 2 bilinear", [IMG], lambda L, x: L.UpSampling2D(2, interpolation="bilinear")(x[0]))
add("upsample_bilinear_32", "UpSampling2D", "size (3,2) bilinear", [IMG6], lambda L, x: L.UpSampling2D((3, 2), interpolation="bilinear")(x[0]))

# Merge layers (two inputs of the same shape, or branches of one)
TWO = [IMG6, IMG6]
add("merge_add", "Add", "two inputs", TWO, lambda L, x: L.Add()([x[0], x[1]]))
add("merge_add3", ["Add", "Conv2D"], "three branches", [IMG6], lambda L, x: L.Add()([x[0], L.Conv2D(6, 1)(x[0]), L.Conv2D(6, 3, padding="same")(x[0])]))
add("merge_subtract", "Subtract", "two inputs", TWO, lambda L, x: L.Subtract()([x[0], x[1]]))
add("merge_multiply", "Multiply", "two inputs", TWO, lambda L, x: L.Multiply()([x[0], x[1]]))
add("merge_average", "Average", "two inputs", TWO, lambda L, x: L.Average()([x[0], x[1]]))
add("merge_average3", ["Average", "Dense"], "three Dense branches", [VEC], lambda L, x: L.Average()([L.Dense(4)(x[0]), L.Dense(4)(x[0]), L.Dense(4)(x[0])]))
add("merge_maximum", "Maximum", "two inputs", TWO, lambda L, x: L.Maximum()([x[0], x[1]]))
add("merge_minimum", "Minimum", "two inputs", TWO, lambda L, x: L.Minimum()([x[0], x[1]]))
add("merge_subtract_dense", ["Subtract", "Dense"], "x - Dense(x) (residual difference)", [VEC], lambda L, x: L.Subtract()([x[0], L.Dense(10)(x[0])]))
add("merge_maximum3", ["Maximum", "Conv2D"], "three branches incl. 1x1 convs", [IMG6], lambda L, x: L.Maximum()([x[0], L.Conv2D(6, 1)(x[0]), L.Conv2D(6, 1, use_bias=False)(x[0])]))
add("merge_minimum_conv", ["Minimum", "Conv2D"], "min(x, conv3x3(x))", [IMG6], lambda L, x: L.Minimum()([x[0], L.Conv2D(6, 3, padding="same")(x[0])]))
add("merge_multiply_dense", ["Multiply", "Dense"], "gating: x * sigmoid(Dense(x))", [VEC], lambda L, x: L.Multiply()([x[0], L.Dense(10, activation="sigmoid")(x[0])]))
add("concat_last", "Concatenate", "axis -1, channel counts 6+3", [IMG6], lambda L, x: L.Concatenate()([x[0], L.Conv2D(3, 1)(x[0])]))
add("concat_axis1", "Concatenate", "axis 1 (height)", TWO, lambda L, x: L.Concatenate(axis=1)([x[0], x[1]]))
add("concat_axis2", "Concatenate", "axis 2 (width)", TWO, lambda L, x: L.Concatenate(axis=2)([x[0], x[1]]))
add("concat_seq3", "Concatenate", "three sequences axis -1", [SEQ, SEQ, SEQ], lambda L, x: L.Concatenate()(list(x)))

# Embedding
TOK = ((12,), "int32")
add("embedding_gap", ["Embedding", "GlobalAveragePooling1D", "Dense"], "vocab 50 dim 8 -> mean -> Dense", [TOK], lambda L, x: L.Dense(3)(L.GlobalAveragePooling1D()(L.Embedding(50, 8)(x[0]))), lo=0, hi=50)
add("embedding_flatten", ["Embedding", "Flatten"], "vocab 20 dim 5 -> Flatten", [TOK], lambda L, x: L.Flatten()(L.Embedding(20, 5)(x[0])), lo=0, hi=20)

# LayerNormalization
add("layernorm_last", "LayerNormalization", "axis -1 on a sequence", [SEQ], lambda L, x: L.LayerNormalization()(x[0]))
add("layernorm_img", "LayerNormalization", "axis [1,2,3] on an image, eps 1e-5", [IMG6], lambda L, x: L.LayerNormalization(axis=[1, 2, 3], epsilon=1e-5)(x[0]))
add("layernorm_nocenter", "LayerNormalization", "center=False on a vector", [VEC], lambda L, x: L.LayerNormalization(center=False)(L.Dense(7)(x[0])))
add("layernorm_noscale_img_last", "LayerNormalization", "scale=False, axis -1 on an image", [IMG6], lambda L, x: L.LayerNormalization(scale=False)(x[0]))

# Rescaling
add("rescaling_255", ["Rescaling", "Conv2D"], "1/255 then conv", [IMG], lambda L, x: L.Conv2D(3, 3)(L.Rescaling(1.0 / 255)(x[0])), lo=0, hi=255)
add("rescaling_offset", "Rescaling", "1/127.5 offset -1", [IMG], lambda L, x: L.Rescaling(1.0 / 127.5, offset=-1.0)(x[0]), lo=0, hi=255)

# InputLayer / graph structure
add("sequential_stack", ["InputLayer", "Conv2D", "MaxPooling2D", "Flatten", "Dense"], "Sequential-style chain", [((12, 12, 1), "float32")],
    lambda L, x: L.Dense(10, activation="softmax")(L.Flatten()(L.MaxPooling2D(2)(L.Conv2D(4, 3, activation="relu")(x[0])))))
add("multi_io", ["InputLayer", "Dense", "Concatenate"], "two inputs, two outputs", [VEC, ((4,), "float32")],
    lambda L, x: [L.Dense(3, name="head_a")(L.Concatenate()([x[0], x[1]])), L.Dense(2, activation="sigmoid", name="head_b")(x[1])])
add("shared_dense", ["Dense"], "one Dense layer applied to two inputs", [VEC, VEC],
    lambda L, x: (lambda d: L.Add()([d(x[0]), d(x[1])]))(L.Dense(4)))


def _mbv2(L, x, expand=6, cout=None, stride=1):
    cin = x.shape[-1]
    cout = cout or cin
    h = L.Conv2D(cin * expand, 1, use_bias=False)(x)
    h = L.BatchNormalization()(h)
    h = L.ReLU(6.0)(h)
    if stride == 2:
        h = L.ZeroPadding2D(((0, 1), (0, 1)))(h)
    h = L.DepthwiseConv2D(3, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False)(h)
    h = L.BatchNormalization()(h)
    h = L.ReLU(6.0)(h)
    h = L.Conv2D(cout, 1, use_bias=False)(h)
    h = L.BatchNormalization()(h)
    if stride == 1 and cin == cout:
        h = L.Add()([x, h])
    return h


def _resblock(L, x, cout, stride):
    h = L.Conv2D(cout, 3, strides=stride, padding="same", use_bias=False)(x)
    h = L.BatchNormalization()(h)
    h = L.Activation("relu")(h)
    h = L.Conv2D(cout, 3, padding="same", use_bias=False)(h)
    h = L.BatchNormalization()(h)
    sc = x
    if stride != 1 or x.shape[-1] != cout:
        sc = L.BatchNormalization()(L.Conv2D(cout, 1, strides=stride, use_bias=False)(x))
    return L.Activation("relu")(L.Add()([h, sc]))


def _unet(L, x):
    e1 = L.Conv2D(6, 3, padding="same", activation="relu")(x)
    p1 = L.MaxPooling2D(2)(e1)
    e2 = L.Conv2D(10, 3, padding="same", activation="relu")(p1)
    p2 = L.MaxPooling2D(2)(e2)
    b = L.Conv2D(12, 3, padding="same", activation="relu")(p2)
    u2 = L.UpSampling2D(2)(b)
    d2 = L.Conv2D(10, 3, padding="same", activation="relu")(L.Concatenate()([u2, e2]))
    u1 = L.Conv2DTranspose(6, 2, strides=2)(d2)
    d1 = L.Conv2D(6, 3, padding="same", activation="relu")(L.Concatenate()([u1, e1]))
    return L.Conv2D(2, 1, activation="sigmoid")(d1)


def _mlp_ln(L, x):
    h = L.Dense(16)(x)
    h = L.LayerNormalization()(h)
    h = L.Activation("gelu")(h)
    h = L.Dropout(0.1)(h)
    h = L.Dense(16)(h)
    h = L.LayerNormalization()(h)
    h = L.Activation("relu")(h)
    return L.Dense(4, activation="softmax")(h)


def _textcls(L, x, pool):
    h = L.Embedding(100, 12)(x)
    h = L.Conv1D(8, 3, padding="same", activation="relu")(h)
    h = (L.GlobalMaxPooling1D() if pool == "max" else L.GlobalAveragePooling1D())(h)
    h = L.Dense(8, activation="relu")(h)
    return L.Dense(3, activation="softmax")(h)


add("block_mbv2_s1", ["MobileNetV2 block", "Conv2D", "DepthwiseConv2D", "BatchNormalization", "ReLU", "Add"], "inverted residual, stride 1, 8 channels", [((10, 10, 8), "float32")], lambda L, x: _mbv2(L, x[0]), quant=True)
add("block_mbv2_s2", ["MobileNetV2 block", "ZeroPadding2D", "DepthwiseConv2D"], "inverted residual, stride 2 (ZeroPadding + valid), 6->10", [((11, 11, 6), "float32")], lambda L, x: _mbv2(L, x[0], expand=4, cout=10, stride=2), quant=True)
add("block_resnet_id", ["ResNet basic block", "Conv2D", "BatchNormalization", "Add"], "identity shortcut, 8 channels", [((9, 9, 8), "float32")], lambda L, x: _resblock(L, x[0], 8, 1), quant=True)
add("block_resnet_down", ["ResNet basic block", "Conv2D", "BatchNormalization", "Add"], "projection shortcut, stride 2, 6->10", [((9, 9, 6), "float32")], lambda L, x: _resblock(L, x[0], 10, 2), quant=True)
add("block_unet", ["U-Net", "Conv2D", "MaxPooling2D", "UpSampling2D", "Conv2DTranspose", "Concatenate"], "2-level encoder/decoder with skips", [((16, 12, 3), "float32")], lambda L, x: _unet(L, x[0]), quant=True)
add("block_mlp_ln", ["MLP", "Dense", "LayerNormalization", "Activation", "Dropout"], "2 hidden layers with LayerNorm + gelu", [((20,), "float32")], lambda L, x: _mlp_ln(L, x[0]), quant=True)
add("block_textcls_avg", ["Text classifier", "Embedding", "Conv1D", "GlobalAveragePooling1D"], "embedding + conv1d + mean pool", [((16,), "int32")], lambda L, x: _textcls(L, x[0], "avg"), lo=0, hi=100)
add("block_textcls_max", ["Text classifier", "Embedding", "Conv1D", "GlobalMaxPooling1D"], "embedding + conv1d + max pool", [((16,), "int32")], lambda L, x: _textcls(L, x[0], "max"), lo=0, hi=100)
add("block_tiny_cnn", ["CNN", "Conv2D", "BatchNormalization", "SeparableConv2D", "GlobalAveragePooling2D", "Dense"], "small classifier", [((24, 24, 3), "float32")],
    lambda L, x: L.Dense(5, activation="softmax")(L.GlobalAveragePooling2D()(L.SeparableConv2D(12, 3, padding="same", activation="relu")(L.BatchNormalization()(L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x[0]))))), quant=True)


# Honesty controls. Each of these is here to catch a misreading that would
# otherwise pass (the Go reference and our .tflite agreeing on the wrong
# answer): the framework's own outputs are the witness.

def _ops(L):
    """The functional ops of L's framework: tf.* for tf_keras (TFOpLambda layers), keras.ops for Keras 3."""
    if L.__name__.startswith("tf_keras"):
        import tensorflow as tf
        return tf.reduce_mean, tf.reshape
    import keras
    return keras.ops.mean, keras.ops.reshape


def _hard_sigmoid_scalar(L, x):
    # keras.applications' hard_sigmoid: ReLU(6.)(x + 3.) * (1. / 6.)
    h = L.Dense(8)(x)
    h = L.ReLU(6.0)(h + 3.0) * (1.0 / 6.0)
    return L.Dense(4)(h)


def _scalar_left(L, x):
    h = L.Dense(8)(x)
    a = 3.0 - h  # the scalar is the first operand of a subtraction
    b = 1.0 / (1.0 + h * h)  # and of a division and an addition
    c = 2.0 * h
    return L.Dense(5)(L.Concatenate()([a, b, c]))


def _tfop_ops(L, x):
    mean, reshape = _ops(L)
    c = L.Conv2D(8, 3, padding="same")(x)
    hs = c * L.ReLU(6.0)(c + 3.0) / 6.0  # hard-swish written with operators
    s = L.GlobalAveragePooling2D(keepdims=True)(hs)  # squeeze-excite
    s = L.Conv2D(4, 1)(s)
    s = L.ReLU()(s)
    s = L.Conv2D(8, 1)(s)
    s = L.ReLU(6.0)(s + 3.0) * (1.0 / 6.0)
    hs = L.Multiply()([hs, s])
    y = L.Conv2D(6, 1)(hs)
    m = mean(y, axis=[1, 2], keepdims=True)  # tf.reduce_mean / keras.ops.mean
    return L.Dense(3)(reshape(m, (-1, 6)))


def _cbr(L, x, f, k, s=1, p="same"):
    # InceptionV3's conv2d_bn: conv without bias, BN without scale, ReLU
    x = L.Conv2D(f, k, strides=s, padding=p, use_bias=False)(x)
    x = L.BatchNormalization(scale=False)(x)
    return L.Activation("relu")(x)


def _deep_f32(L, x, w=8):
    # An InceptionV3-shaped network with small widths: stem, one 35x35-style
    # block, a reduction, one 17x17-style block with 1x7/7x1 factorized convs.
    h = _cbr(L, x, w, 3, 2, "valid")
    h = _cbr(L, h, w, 3, 1, "valid")
    h = _cbr(L, h, 2 * w, 3)
    h = L.MaxPooling2D(3, strides=2)(h)
    h = _cbr(L, h, 2 * w, 1, 1, "valid")
    h = _cbr(L, h, 3 * w, 3, 1, "valid")
    h = L.MaxPooling2D(3, strides=2)(h)
    b1 = _cbr(L, h, w, 1)
    b2 = _cbr(L, _cbr(L, h, w, 1), w, 5)
    b3 = _cbr(L, _cbr(L, _cbr(L, h, w, 1), w, 3), w, 3)
    b4 = _cbr(L, L.AveragePooling2D(3, strides=1, padding="same")(h), w // 2, 1)
    h = L.Concatenate()([b1, b2, b3, b4])
    r1 = _cbr(L, h, 2 * w, 3, 2, "valid")
    r2 = _cbr(L, _cbr(L, _cbr(L, h, w, 1), w, 3), w, 3, 2, "valid")
    r3 = L.MaxPooling2D(3, strides=2)(h)
    h = L.Concatenate()([r1, r2, r3])
    c1 = _cbr(L, h, w, 1)
    c2 = _cbr(L, _cbr(L, _cbr(L, h, w, 1), w, (1, 7)), w, (7, 1))
    c3 = _cbr(L, _cbr(L, _cbr(L, _cbr(L, _cbr(L, h, w, 1), w, (7, 1)), w, (1, 7)), w, (7, 1)), w, (1, 7))
    c4 = _cbr(L, L.AveragePooling2D(3, strides=1, padding="same")(h), w, 1)
    h = L.Concatenate()([c1, c2, c3, c4])
    h = L.GlobalAveragePooling2D()(h)
    return L.Dense(10)(h)


_HONESTY = "honesty control: "
add("honesty_hard_sigmoid_scalar", ["Dense", "ReLU", "TFOpLambda", "ops.numpy"], "Dense -> h + 3.0 -> ReLU(6.) -> * (1/6) -> Dense (keras.applications' hard_sigmoid)",
    [VEC], lambda L, x: _hard_sigmoid_scalar(L, x[0]), lo=-6, hi=6,
    notes=_HONESTY + "scalar operands of operator ops: Keras 3 records keras.src.ops.numpy.Add/Multiply nodes with the Python scalar "
    "in the node's args, tf_keras TFOpLambda __operators__.add / math.multiply with the scalar in the inbound node's kwargs (y). "
    "A reader that drops the scalar (reads the node as a one-input merge) computes ReLU6(h) instead of ReLU6(h+3)/6.")
add("honesty_scalar_left", ["Dense", "Concatenate", "TFOpLambda", "ops.numpy"], "3.0 - h, 1.0 / (1.0 + h*h), 2.0 * h (scalar first operand)",
    [VEC], lambda L, x: _scalar_left(L, x[0]), lo=-3, hi=3,
    notes=_HONESTY + "operand order of operator ops with the scalar on the left: Keras 3 puts the scalar first in args "
    "(Subtract(3.0, h), TrueDivide(1.0, t), Add(1.0, t)); tf_keras records an inbound node ['_CONSTANT_VALUE', -1, 3.0, {'y': ...}]. "
    "Swapping the operands gives h - 3 and (1 + h*h) instead of their true values.")
add("honesty_tfop_ops", ["Conv2D", "ReLU", "GlobalAveragePooling2D", "Multiply", "Dense", "TFOpLambda", "ops.numpy"],
    "hard-swish x*ReLU6(x+3)/6 with operators, squeeze-excite (GAP keepdims, 1x1 convs, hard-sigmoid, Multiply), "
    "mean over H,W keepdims (tf.reduce_mean / keras.ops.mean), functional reshape",
    [((10, 10, 4), "float32")], lambda L, x: _tfop_ops(L, x[0]), lo=-4, hi=4,
    notes=_HONESTY + "the functional ops keras.applications (MobileNetV3) writes: tensor*tensor and tensor/scalar operators, "
    "tf.reduce_mean / keras.ops.mean with axis and keepdims, tf.reshape / keras.ops.reshape with a -1 dimension. "
    "Every argument a node states must be read or refused.")
add("honesty_deep_f32", ["Conv2D", "BatchNormalization", "Activation", "MaxPooling2D", "AveragePooling2D", "Concatenate",
                         "GlobalAveragePooling2D", "Dense"],
    "InceptionV3-shaped at 75x75 (its minimum input), 89 layers, widths 4-24, BN statistics calibrated on the inputs, "
    "sparse ReLUs (BN beta ~ -0.5)",
    [((75, 75, 3), "float32")], lambda L, x: _deep_f32(L, x[0]), calibrate={"beta": -0.5}, f64=True,
    notes=_HONESTY + "a correct deep float32 model; f64_drift records how far the framework's float32 outputs are from "
    "a float64 evaluation of the same model. The tolerance must come from the model's own float32 noise (DESIGN.md, "
    "Honesty); at these widths the drift stays near 1e-5 of the range (the full-size InceptionV3 of zoo.py reaches ~1e-4).")


def _mobilenet_v3_small(L, x):
    # the real application, built on the case's input tensor (so the model is its layers, not a nested model)
    if L.__name__.startswith("tf_keras"):
        import tf_keras as K
    else:
        import keras as K
    return K.applications.MobileNetV3Small(input_tensor=x, weights=None, classes=10, alpha=0.5).output


add("zoo_mobilenet_v3_small", ["MobileNetV3Small", "Rescaling", "Conv2D", "DepthwiseConv2D", "BatchNormalization", "ReLU",
                               "GlobalAveragePooling2D", "Multiply", "Activation", "Dropout", "Flatten", "TFOpLambda", "ops.numpy"],
    "keras.applications.MobileNetV3Small(weights=None, classes=10, alpha=0.5) at 96x96, BN statistics calibrated on the inputs",
    [((96, 96, 3), "float32")], lambda L, x: _mobilenet_v3_small(L, x[0]), lo=0, hi=255, calibrate={},
    notes=_HONESTY + "the real MobileNetV3Small (alpha 0.5 to keep each file under 4 MB): hard_sigmoid as ReLU(6.)(x + 3.) * (1/6) "
    "(scalar operator ops), hard-swish (tf_keras: Multiply; Keras 3: Activation('hard_swish')), squeeze-excite blocks, "
    "Rescaling(1/127.5, offset -1) on [0, 255] pixels. The larger out-of-tree zoo is made by zoo.py.")


# Attention. MultiHeadAttention in its configurations, and two small
# transformers built only from layers Keras ships (no custom layer): the
# learned position embedding is an Embedding evaluated on the constant range
# of positions, which Keras records as a constant operand of x + pos.

def _pos_embedding(L, n, d, seed):
    """An Embedding(n, d) with seeded weights, evaluated on [[0..n-1]]: a [1, n, d] constant."""
    import numpy as np
    e = L.Embedding(n, d)
    e.build((None, n))
    e.set_weights([np.random.default_rng(seed).normal(0, 0.5, (n, d)).astype("float32")])
    return e(np.arange(n)[None])


def _encoder_block(L, h, heads, key_dim, mlp, dropout=0.1, causal=False):
    a = L.MultiHeadAttention(heads, key_dim, dropout=dropout)(h, h, use_causal_mask=causal)
    h = L.LayerNormalization(epsilon=1e-6)(L.Add()([h, L.Dropout(dropout)(a)]))
    f = L.Dense(mlp, activation="gelu")(h)
    f = L.Dense(h.shape[-1])(f)
    return L.LayerNormalization(epsilon=1e-6)(L.Add()([h, f]))


def _vit_block(L, h, heads, key_dim, mlp):
    # pre-norm, as in ViT
    n = L.LayerNormalization(epsilon=1e-6)(h)
    h = L.Add()([h, L.MultiHeadAttention(heads, key_dim, dropout=0.1)(n, n)])
    n = L.LayerNormalization(epsilon=1e-6)(h)
    f = L.Dense(mlp)(n)
    f = L.Activation("gelu")(f)
    f = L.Dense(h.shape[-1])(L.Dropout(0.1)(f))
    return L.Add()([h, f])


def _text_transformer(L, x):
    h = L.Dense(16)(x)  # float token features -> model width
    h = h + _pos_embedding(L, 12, 16, 1201)
    h = _encoder_block(L, h, 4, 4, 32)
    h = _encoder_block(L, h, 2, 8, 32)
    h = L.GlobalAveragePooling1D()(h)
    return L.Dense(3)(h)  # logits: a softmax would hide small errors


def _vit(L, x):
    p = L.Conv2D(16, 4, strides=4)(x)  # 16x16x3 -> 4x4 patches of 16 features
    h = L.Reshape((16, 16))(p)
    h = L.Add()([h, _pos_embedding(L, 16, 16, 1601)])  # a merge layer with a constant operand
    h = _vit_block(L, h, 4, 4, 64)  # a 16x64 kernel: 1024 weights, which dynamic range quantizes
    h = _vit_block(L, h, 4, 4, 64)
    h = L.LayerNormalization(epsilon=1e-6)(h)
    h = L.GlobalAveragePooling1D()(h)
    return L.Dense(5)(h)


SEQ_Q = ((6, 8), "float32")
add("mha_self", "MultiHeadAttention", "self-attention, 2 heads, key_dim 4, default axes", [SEQ_Q],
    lambda L, x: L.MultiHeadAttention(2, 4)(x[0], x[0]), lo=-2, hi=2)
add("mha_cross_key", "MultiHeadAttention", "cross-attention: query [5,8], value [7,6], key [7,4]; 3 heads, key_dim 4, value_dim 3, output_shape 5",
    [((5, 8), "float32"), ((7, 6), "float32"), ((7, 4), "float32")],
    lambda L, x: L.MultiHeadAttention(3, 4, value_dim=3, output_shape=5)(x[0], x[1], key=x[2]), lo=-2, hi=2)
add("mha_nobias_outshape", "MultiHeadAttention", "use_bias=False, output_shape (2, 3), dropout 0.2 (inert)", [SEQ_Q],
    lambda L, x: L.MultiHeadAttention(2, 5, use_bias=False, output_shape=(2, 3), dropout=0.2)(x[0], x[0]), lo=-2, hi=2)
def _masks(rng, batch, shape, twos=False):
    """A float query in [-2, 2) and an int32 mask of 0 and 1 in which key 0 always attends, so no row is fully masked
    (tf_keras adds -1e9 to every score of such a row, and float32 rounding of s - 1e9 decides its softmax); with twos, one
    key of every other row is 2."""
    import numpy as np
    x = rng.uniform(-2, 2, (batch,) + SEQ_Q[0]).astype("float32")
    m = rng.integers(0, 2, (batch,) + shape).astype("int32")
    m[..., 0] = 1
    if twos:
        for b in range(batch):
            for r in range(0, shape[0], 2):
                m[b, r, rng.integers(1, shape[1])] = 2
    return [x, m]


add("mha_mask", ["MultiHeadAttention", "InputLayer"], "attention_mask from an int32 input [6, 6] of 0 and 1", [SEQ_Q, ((6, 6), "int32")],
    lambda L, x: L.MultiHeadAttention(2, 4)(x[0], x[0], attention_mask=x[1]), make_inputs=lambda rng, b: _masks(rng, b, (6, 6)))
add("mha_causal", "MultiHeadAttention", "use_causal_mask=True", [SEQ_Q],
    lambda L, x: L.MultiHeadAttention(2, 4)(x[0], x[0], use_causal_mask=True), lo=-2, hi=2)
add("mha_causal_mask", ["MultiHeadAttention", "InputLayer"], "use_causal_mask=True and an attention_mask [1, 6] (broadcast over queries)", [SEQ_Q, ((1, 6), "int32")],
    lambda L, x: L.MultiHeadAttention(2, 4)(x[0], x[0], attention_mask=x[1], use_causal_mask=True),
    make_inputs=lambda rng, b: _masks(rng, b, (1, 6)))
add("mha_rank4", "MultiHeadAttention", "rank-4 input [4, 5, 6], default attention axes (1, 2): attention over 20 positions", [((4, 5, 6), "float32")],
    lambda L, x: L.MultiHeadAttention(2, 3)(x[0], x[0]), lo=-2, hi=2)
add("honesty_mha_mask_values", ["MultiHeadAttention", "InputLayer"], "attention_mask of 0, 1 and 2 (int32 [6, 6])", [SEQ_Q, ((6, 6), "int32")],
    lambda L, x: L.MultiHeadAttention(2, 4)(x[0], x[0], attention_mask=x[1]), make_inputs=lambda rng, b: _masks(rng, b, (6, 6), twos=True),
    notes=_HONESTY + "the frameworks read a non-boolean mask differently: Keras 3 casts it to bool (2 attends like 1), "
    "tf_keras adds (1 - mask) * -1e9 to the scores as it is (2 adds +1e9, so that key takes all the attention of its row). "
    "expected_k3.npz holds Keras 3's outputs; a reader with one semantics for both fails one of the files.")
add("block_transformer_text", ["Transformer encoder", "MultiHeadAttention", "LayerNormalization", "Dense", "Add", "Dropout",
                               "GlobalAveragePooling1D", "TFOpLambda", "ops.numpy"],
    "2 post-norm encoder blocks (4x4 and 2x8 heads, gelu MLP) on 12 float tokens of 5 features, learned position embedding "
    "(Embedding on the constant range, added as x + pos), mean pool, logits", [((12, 5), "float32")],
    lambda L, x: _text_transformer(L, x[0]), quant=True)
add("block_vit", ["ViT", "Conv2D", "Reshape", "MultiHeadAttention", "LayerNormalization", "Dense", "Activation", "Add",
                  "GlobalAveragePooling1D"],
    "16x16x3 image, 4x4 patches by Conv2D + Reshape, learned position embedding (Embedding on the constant range, "
    "added by Add()([x, pos]): a constant operand of the merge layer), 2 pre-norm blocks (4 heads), gelu MLP 64, "
    "final LayerNorm, mean pool", [((16, 16, 3), "float32")], lambda L, x: _vit(L, x[0]), quant=True)


# Preprocessing layers and the applications' own layers (EfficientNet, ConvNeXt, MLP-Mixer)

def _app_layer(L, name, module="convnext"):
    """An application's own layer class (ConvNeXt's LayerScale, StochasticDepth; InceptionResNetV2's
    CustomScaleLayer) of L's framework."""
    import importlib
    root = "tf_keras" if L.__name__.startswith("tf_keras") else "keras"
    return getattr(importlib.import_module(f"{root}.src.applications.{module}"), name)


def _norm_adapted(L, x, **kw):
    # weights mean/variance/count (what adapt() leaves; EfficientNet's); randomize() gives them seeded values
    return L.Conv2D(4, 1)(L.Normalization(**kw)(x))


add("normalization_adapted", ["Normalization", "Conv2D"], "axis -1, per-channel mean/variance weights (adapted), then a 1x1 conv",
    [IMG], lambda L, x: _norm_adapted(L, x[0], axis=-1), lo=-2, hi=3)
add("normalization_invert", ["Normalization", "Dense"], "invert=True, axis -1 per-feature weights, after a Dense",
    [VEC], lambda L, x: L.Normalization(invert=True)(L.Dense(6)(x[0])))
add("normalization_stated", ["Normalization"], "mean/variance stated in the config, per channel (ConvNeXt's prestem)",
    [IMG], lambda L, x: L.Normalization(axis=-1, mean=[0.4, -0.3, 1.2], variance=[0.5, 2.0, 0.03])(x[0]), lo=-2, hi=2)
add("normalization_axes_broadcast", ["Normalization"], "axis (2, 3) with a stated per-channel mean [3] broadcast over the width",
    [IMG], lambda L, x: L.Normalization(axis=(2, 3), mean=[0.2, -0.5, 0.9], variance=[1.5, 0.2, 4.0])(x[0]))
add("normalization_axis_none_invert", ["Normalization", "Dense"], "axis None (one scalar mean/variance), invert=True",
    [VEC], lambda L, x: L.Dense(3)(L.Normalization(axis=None, mean=0.7, variance=2.5, invert=True)(x[0])))
add("rescaling_per_channel", ["Rescaling", "Conv2D"], "scale and offset per channel (lists)",
    [IMG], lambda L, x: L.Conv2D(3, 1)(L.Rescaling([1 / 58.4, 1 / 57.1, 1 / 57.4], offset=[-2.1, -2.0, -1.8])(x[0])), lo=0, hi=255)


def _convnext_block(L, x):
    # ConvNeXt's block: 7x7 depthwise, LayerNorm, pointwise MLP 4x with gelu, LayerScale, StochasticDepth, residual
    c = x.shape[-1]
    h = L.DepthwiseConv2D(7, padding="same")(x)
    h = L.LayerNormalization(epsilon=1e-6)(h)
    h = L.Dense(4 * c)(h)
    h = L.Activation("gelu")(h)
    h = L.Dense(c)(h)
    h = _app_layer(L, "LayerScale")(1e-6, c)(h)
    h = _app_layer(L, "StochasticDepth")(0.1)(h)
    return L.Add()([x, h])


def _inception_resnet_block(L, x):
    # block35: branches, concatenation, a linear 1x1 conv back to the input's channels, x + up * scale, relu
    b0 = L.Conv2D(4, 1, activation="relu")(x)
    b1 = L.Conv2D(4, 3, padding="same", activation="relu")(L.Conv2D(3, 1, activation="relu")(x))
    up = L.Conv2D(x.shape[-1], 1)(L.Concatenate()([b0, b1]))
    h = _app_layer(L, "CustomScaleLayer", "inception_resnet_v2")(0.17)([x, up])
    return L.Activation("relu")(h)


def _mixer_block(L, x):
    # an MLP-Mixer on 2x2 patches: token mixing through Permute -> Dense -> Permute, channel mixing, LayerNorm on a
    # permuted tensor, then a rank-4 Permute -> LayerNormalization -> Conv2D (the patch grid read channels-last)
    p = L.Conv2D(6, 2, strides=2)(x)  # [4, 4, 6]
    t = L.Reshape((16, 6))(p)
    for _ in range(2):
        h = L.LayerNormalization(epsilon=1e-6)(t)
        h = L.Permute((2, 1))(h)
        h = L.Dense(12, activation="gelu")(h)
        h = L.Dense(16)(h)
        h = L.Permute((2, 1))(h)
        t = L.Add()([t, h])
        h = L.LayerNormalization(epsilon=1e-6)(t)
        h = L.Dense(12, activation="gelu")(h)
        h = L.Dense(6)(h)
        t = L.Add()([t, h])
    g = L.Reshape((4, 4, 6))(t)
    g = L.Permute((3, 1, 2))(g)  # [6, 4, 4]: channels first, read by Keras as a 6x4 grid of 4 channels
    g = L.LayerNormalization()(g)
    g = L.Conv2D(5, 3)(g)
    a = L.GlobalAveragePooling2D()(g)
    b = L.GlobalAveragePooling1D()(L.LayerNormalization(epsilon=1e-6)(t))
    return L.Dense(4)(L.Concatenate()([a, b]))


def _efficientnet_block(L, x):
    # EfficientNet's stem and one MBConv block: Rescaling(1/255), Normalization (adapted weights), conv-BN-swish,
    # expand, depthwise, squeeze-excite (GAP keepdims, swish reduce, sigmoid expand, Multiply), project, Dropout, Add
    h = L.Rescaling(1.0 / 255.0)(x)
    h = L.Normalization(axis=3)(h)
    h = L.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(h)
    h = L.BatchNormalization()(h)
    h = L.Activation("swish")(h)
    s = h
    h = L.Conv2D(16, 1, use_bias=False)(h)
    h = L.BatchNormalization()(h)
    h = L.Activation("swish")(h)
    h = L.DepthwiseConv2D(3, padding="same", use_bias=False)(h)
    h = L.BatchNormalization()(h)
    h = L.Activation("swish")(h)
    se = L.GlobalAveragePooling2D(keepdims=True)(h)
    se = L.Conv2D(2, 1, activation="swish")(se)
    se = L.Conv2D(16, 1, activation="sigmoid")(se)
    h = L.Multiply()([h, se])
    h = L.Conv2D(8, 1, use_bias=False)(h)
    h = L.BatchNormalization()(h)
    h = L.Dropout(0.2, noise_shape=(None, 1, 1, 1))(h)
    h = L.Add()([h, s])
    h = L.GlobalAveragePooling2D()(h)
    return L.Dense(5)(h)


add("layerscale", ["LayerScale", "StochasticDepth", "Dense"],
    "ConvNeXt's LayerScale (projection_dim 5) after a Dense on an image, then StochasticDepth(0.3)",
    [IMG6], lambda L, x: _app_layer(L, "StochasticDepth")(0.3)(_app_layer(L, "LayerScale")(1e-6, 5)(L.Dense(5)(x[0]))))
add("block_convnext", ["ConvNeXt block", "DepthwiseConv2D", "LayerNormalization", "Dense", "Activation", "LayerScale",
                       "StochasticDepth", "Add"],
    "7x7 depthwise, LayerNorm, 4x MLP with gelu, LayerScale, StochasticDepth(0.1), residual; 8 channels",
    [((9, 9, 8), "float32")], lambda L, x: _convnext_block(L, x[0]),
    notes="ConvNeXt's own layers: LayerScale multiplies by its gamma weight (perturbed: not the 1e-6 it starts at); "
    "StochasticDepth returns its input unless called with training=True.")
add("block_inception_resnet", ["Inception-ResNet block", "Conv2D", "Concatenate", "CustomScaleLayer", "Activation"],
    "InceptionResNetV2's block35 at 6 channels: 1x1 and 1x1-3x3 branches, concatenated, a linear 1x1 back to 6, "
    "added to the input by CustomScaleLayer(0.17) ([x, up] -> x + up * 0.17), relu",
    [((7, 9, 6), "float32")], lambda L, x: _inception_resnet_block(L, x[0]),
    notes="InceptionResNetV2's own layer: a tf_keras .h5 records it as Custom>CustomScaleLayer (registered in tf_keras's "
    "default package), a .keras file with its module keras.src.applications.inception_resnet_v2.")
add("block_mlp_mixer", ["MLP-Mixer", "Conv2D", "Reshape", "LayerNormalization", "Permute", "Dense", "Add",
                        "GlobalAveragePooling1D", "GlobalAveragePooling2D", "Concatenate"],
    "2x2 patches of 8x8x3, two mixer blocks (token mixing via Permute), a rank-4 Permute -> LayerNorm -> Conv2D",
    [((8, 8, 3), "float32")], lambda L, x: _mixer_block(L, x[0]),
    notes="Permute -> LayerNormalization: a rank-4 Permute((3, 1, 2)) once made the reader refuse the following Conv2D "
    "(layout mismatch); Keras reads the permuted tensor channels-last.")
add("block_efficientnet", ["EfficientNet block", "Rescaling", "Normalization", "Conv2D", "BatchNormalization", "Activation",
                           "DepthwiseConv2D", "GlobalAveragePooling2D", "Multiply", "Dropout", "Add", "Dense"],
    "Rescaling(1/255), Normalization (adapted), stem conv s2, MBConv with squeeze-excite, on [0, 255] pixels",
    [((12, 12, 3), "float32")], lambda L, x: _efficientnet_block(L, x[0]), lo=0, hi=255, calibrate={},
    notes="EfficientNet's preprocessing: Normalization's adapted mean/variance weights are perturbed (not ImageNet's), "
    "BatchNorm statistics calibrated on the inputs.")
# Recurrent layers. Their biases are drawn wider (gen_keras.randomize) so the
# forget gate's and the GRU's two biases are far from zero and from each
# other; the real TF converter needs a static batch for them (tf_batch1).
RSEQ = ((7, 4), "float32")
RTOK = ((10,), "int32")


def _rnn_textcls(L, x):
    h = L.Embedding(40, 8)(x)
    h = L.LSTM(6)(h)
    return L.Dense(3, activation="softmax")(h)


def _rnn_stacked(L, x):
    h = L.LSTM(6, return_sequences=True)(x)
    h = L.GRU(5, return_sequences=True)(h)
    h = L.SimpleRNN(4)(h)
    return L.Dense(2)(h)


def _rnn_bidir_none(L, x):
    f, b = L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode=None)(x)
    return [f, b]


add("rnn_textcls_lstm", ["Text classifier", "Embedding", "LSTM", "Dense"], "Embedding(40, 8) -> LSTM(6) -> Dense(3) softmax",
    [RTOK], lambda L, x: _rnn_textcls(L, x[0]), lo=0, hi=40, tf_batch1=True)
add("rnn_lstm_seq_backwards", "LSTM", "units=5 return_sequences go_backwards (the sequence in reading order: last step first)",
    [RSEQ], lambda L, x: L.LSTM(5, return_sequences=True, go_backwards=True)(x[0]), tf_batch1=True)
add("rnn_lstm_acts", "LSTM", "units=4 activation=softsign recurrent_activation=hard_sigmoid unroll dropout=0.3 recurrent_dropout=0.2 (inert)",
    [RSEQ], lambda L, x: L.LSTM(4, activation="softsign", recurrent_activation="hard_sigmoid", unroll=True, dropout=0.3,
                                recurrent_dropout=0.2)(x[0]), tf_batch1=True)
add("rnn_gru_reset_after", "GRU", "units=5 reset_after=True return_sequences (input and recurrent biases)",
    [RSEQ], lambda L, x: L.GRU(5, reset_after=True, return_sequences=True)(x[0]), tf_batch1=True)
add("rnn_gru_reset_before", "GRU", "units=4 reset_after=False activation=relu go_backwards, last step",
    [RSEQ], lambda L, x: L.GRU(4, reset_after=False, activation="relu", go_backwards=True)(x[0]), tf_batch1=True)
add("rnn_simple", "SimpleRNN", "units=6 tanh, last step", [RSEQ], lambda L, x: L.SimpleRNN(6)(x[0]), tf_batch1=True)
add("rnn_simple_seq_nobias", "SimpleRNN", "units=3 relu use_bias=False return_sequences",
    [RSEQ], lambda L, x: L.SimpleRNN(3, activation="relu", use_bias=False, return_sequences=True)(x[0]), tf_batch1=True)
add("rnn_bilstm_seq", ["Bidirectional", "LSTM", "Dense"], "Bidirectional(LSTM(4, return_sequences)) concat -> Dense(3) per step",
    [RSEQ], lambda L, x: L.Dense(3)(L.Bidirectional(L.LSTM(4, return_sequences=True))(x[0])), tf_batch1=True)
add("rnn_bigru_sum", ["Bidirectional", "GRU"], "Bidirectional(GRU(4, reset_after=False), merge_mode=sum), last step",
    [RSEQ], lambda L, x: L.Bidirectional(L.GRU(4, reset_after=False), merge_mode="sum")(x[0]), tf_batch1=True)
add("rnn_bigru_mul_seq", ["Bidirectional", "GRU"], "Bidirectional(GRU(3, return_sequences), merge_mode=mul)",
    [RSEQ], lambda L, x: L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="mul")(x[0]), tf_batch1=True)
add("rnn_birnn_ave", ["Bidirectional", "SimpleRNN"], "Bidirectional(SimpleRNN(5, return_sequences), merge_mode=ave)",
    [RSEQ], lambda L, x: L.Bidirectional(L.SimpleRNN(5, return_sequences=True), merge_mode="ave")(x[0]), tf_batch1=True)
add("rnn_bilstm_none", ["Bidirectional", "LSTM"], "Bidirectional(LSTM(3, return_sequences), merge_mode=None): two outputs",
    [RSEQ], lambda L, x: _rnn_bidir_none(L, x[0]), tf_batch1=True)
add("rnn_stacked", ["LSTM", "GRU", "SimpleRNN", "Dense"], "LSTM(6, seq) -> GRU(5, seq) -> SimpleRNN(4) -> Dense(2)",
    [RSEQ], lambda L, x: _rnn_stacked(L, x[0]), tf_batch1=True)




# Nested models. Teachable Machine's image export (keras_model.h5, a file name
# in thousands of public repositories): a Sequential of two Sequentials, the
# first wrapping the whole MobileNetV2 functional model (alpha 0.35, truncated
# at out_relu) and a GlobalAveragePooling2D, the second the classifier head.

def _teachable_machine(K, size=96, classes=3):
    base = K.applications.MobileNetV2(input_shape=(size, size, 3), alpha=0.35, include_top=False, weights=None)
    trunc = K.Model(base.inputs, base.get_layer("out_relu").output, name="model1")
    feat = K.Sequential([trunc, K.layers.GlobalAveragePooling2D()], name="sequential_1")
    head = K.Sequential([K.Input((1280,)), K.layers.Dense(100, activation="relu"),
                         K.layers.Dense(classes, activation="softmax", use_bias=False)], name="sequential_3")
    m = K.Sequential([feat, head], name="sequential_4")
    m.build((None, size, size, 3))
    return m


add("nested_teachable_machine", ["Sequential", "Functional", "MobileNetV2", "GlobalAveragePooling2D", "Dense"],
    "Teachable Machine's export: Sequential[Sequential[MobileNetV2 functional (alpha 0.35, 96x96, truncated at out_relu), "
    "GlobalAveragePooling2D], Sequential[Dense(100, relu), Dense(3, softmax, no bias)]], BN statistics calibrated",
    [((96, 96, 3), "float32")], None, model=_teachable_machine, calibrate={},
    notes="a Sequential whose layers are models: the chain calls each nested model once, and each format stores the "
    "nested weights where it stores them (tf_keras .h5: model_weights/<outer layer>/<inner layer>/...; Keras 3: "
    "layers/<outer>/layers/<inner>/vars). Once refused with a wrong cause (\"model output [...] is never computed\").")


# Lambda layers whose function is plain arithmetic on the input: the file
# holds the function's marshalled bytecode (Python 3.11 here), which the
# reader decodes without executing it (internal/pycode).

def _behavioural_cloning(L, x):
    # the NVIDIA-style steering model of the behavioural-cloning projects, scaled down
    h = L.Lambda(lambda t: t / 255.0 - 0.5)(x)
    h = L.Cropping2D(((6, 4), (0, 0)))(h)
    h = L.Conv2D(6, 5, strides=2, activation="relu")(h)
    h = L.Conv2D(8, 3, activation="elu")(h)
    h = L.Flatten()(h)
    h = L.Dense(16, activation="relu")(h)
    h = L.Dropout(0.5)(h)
    return L.Dense(1)(h)


add("lambda_behavioural_cloning", ["Lambda", "Cropping2D", "Conv2D", "Flatten", "Dense", "Dropout"],
    "Lambda(lambda t: t / 255.0 - 0.5) on [0, 255] pixels, Cropping2D, two Conv2D, Dense head (steering angle)",
    [((32, 48, 3), "float32")], lambda L, x: _behavioural_cloning(L, x[0]), lo=0, hi=255,
    notes="the behavioural-cloning model's normalisation lambda: decoded from its bytecode (never executed) into "
    "Div and Sub by float32 constants; the report names the function.")
add("lambda_arithmetic", ["Lambda", "Dense"],
    "Lambdas -t ** 2 + 3 * t, 1.0 - t * 0.25, (t - 0.5) / 2 and 2 ** t between Dense layers",
    [VEC], lambda L, x: L.Dense(3)(L.Lambda(lambda t: 2 ** t)(L.Lambda(lambda t: (t - 0.5) / 2)(
        L.Lambda(lambda t: 1.0 - t * 0.25)(L.Lambda(lambda t: -t ** 2 + 3 * t)(L.Dense(6)(x[0])))))),
    notes="operator precedence, reversed operands (constant on the left), unary minus, integer constants and a "
    "power: each must map to the operation Python performs, in its order.")


# Out-of-tree cases, written into the zoo directory (gen_keras.py DIR --zoo):
# too large to commit.
ZOO_CASES: List[Case] = []
ZOO_CASES.append(Case(
    "teachable_machine_224", ["Sequential", "Functional", "MobileNetV2", "GlobalAveragePooling2D", "Dense"],
    "Teachable Machine's export at its real size: Sequential[Sequential[MobileNetV2 functional (alpha 0.35, "
    "224x224, truncated at out_relu), GlobalAveragePooling2D], Sequential[Dense(100, relu), Dense(3, softmax, "
    "no bias)]], BN statistics calibrated",
    [((224, 224, 3), "float32")], None, model=lambda K: _teachable_machine(K, size=224), calibrate={},
    notes="nested_teachable_machine of the corpus at 224 px, the size Teachable Machine exports."))
