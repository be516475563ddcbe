"""The PyTorch cases of the corpus, and GraphNet, the module that runs an --arch step list.

A chain of standard layers is an nn.Sequential (its full-module .pth needs no
--arch; its --arch file is derived from the modules). Anything with branches is
a GraphNet: its forward interprets the same step list that is written as the
case's --arch YAML (converter/torch/ARCH.md), so the file and the model cannot
disagree.
"""

from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


def norm(op: str) -> str:
    return op.replace("_", "").lower()


class GraphNet(nn.Module):
    """Runs an edgeval-torch-arch/1 step list; children are registered under their keys."""

    def __init__(self, steps, modules, input_names):
        super().__init__()
        self.steps = steps
        self.input_names = input_names
        for k, m in modules.items():
            setattr(self, k, m)

    def forward(self, *xs):
        env = dict(zip(self.input_names, xs))
        prev = xs[0]
        last = None
        for s in self.steps:
            if isinstance(s, str):
                s = {"op": s}
            op = norm(s["op"])
            src = s.get("from")
            if src is None:
                args = [prev]
            elif isinstance(src, list):
                args = [env[a] for a in src]
            else:
                args = [env[src]]
            key = s.get("key")
            x = args[0]
            if key is not None:
                y = getattr(self, key)(x)
                if isinstance(getattr(self, key), nn.RNNBase):
                    # (output, h_n) or (output, (h_n, c_n)): the step's
                    # `output` argument picks one (ARCH.md).
                    if s.get("output", "output") == "h_n":
                        y = y[1][0] if isinstance(y[1], tuple) else y[1]
                    else:
                        y = y[0]
            elif op == "select":
                y = x.select(s["dim"], s["index"])
            elif op == "add":
                y = args[0] + args[1]
            elif op == "mul":
                y = args[0] * args[1]
            elif op in ("cat", "concat"):
                y = torch.cat(args, dim=s.get("dim", 1))
            elif op == "flatten":
                y = torch.flatten(x, s.get("start_dim", 1), s.get("end_dim", -1))
            elif op in ("view", "reshape"):
                y = x.reshape(s["shape"])
            elif op == "permute":
                y = x.permute(s["dims"])
            elif op == "mean":
                y = x.mean(dim=s["dim"], keepdim=s.get("keepdim", False))
            elif op == "relu":
                y = F.relu(x)
            elif op == "relu6":
                y = F.relu6(x)
            elif op == "sigmoid":
                y = torch.sigmoid(x)
            elif op == "tanh":
                y = torch.tanh(x)
            elif op == "silu":
                y = F.silu(x)
            elif op == "gelu":
                y = F.gelu(x, approximate=s.get("approximate", "none"))
            elif op == "hardswish":
                y = F.hardswish(x)
            elif op == "softmax":
                y = F.softmax(x, dim=s["dim"])
            elif op == "maxpool2d":
                y = F.max_pool2d(x, s["kernel_size"], s.get("stride"), s.get("padding", 0))
            elif op == "avgpool2d":
                y = F.avg_pool2d(x, s["kernel_size"], s.get("stride"), s.get("padding", 0))
            elif op == "adaptiveavgpool2d":
                y = F.adaptive_avg_pool2d(x, s["output_size"])
            elif op in ("upsample", "interpolate"):
                y = F.interpolate(x, scale_factor=s.get("scale_factor"), size=s.get("size"), mode=s.get("mode", "nearest"),
                                  align_corners=s.get("align_corners") if s.get("mode", "nearest") != "nearest" else None)
            elif op in ("identity", "dropout"):
                y = x
            else:
                raise ValueError(f"GraphNet: op {s['op']}")
            label = s.get("name", key)
            if label is not None:
                env[label] = y
            prev = y
            last = y
        return last


def _pair_or_int(v):
    if isinstance(v, tuple):
        return v[0] if len(set(v)) == 1 else list(v)
    return v


def step_of(key: str, m: nn.Module) -> dict:
    """The --arch step of one standard module."""
    t = type(m).__name__
    s = {"op": t}
    if isinstance(m, (nn.Linear, nn.PReLU, nn.Embedding)):
        s["key"] = key
    elif isinstance(m, (nn.Conv1d, nn.Conv2d)):
        s["key"] = key
        for a, default in (("stride", 1), ("padding", 0), ("dilation", 1)):
            v = _pair_or_int(getattr(m, a))
            if v != default:
                s[a] = v
        if m.groups != 1:
            s["groups"] = m.groups
        if m.padding_mode != "zeros":
            s["padding_mode"] = m.padding_mode
    elif isinstance(m, nn.ConvTranspose2d):
        s["key"] = key
        for a in ("stride", "padding", "output_padding", "dilation"):
            v = _pair_or_int(getattr(m, a))
            if v != (1 if a in ("stride", "dilation") else 0):
                s[a] = v
        if m.groups != 1:
            s["groups"] = m.groups
    elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)):
        s["key"] = key
        if isinstance(m, nn.LayerNorm) and not m.elementwise_affine:
            s["normalized_shape"] = list(m.normalized_shape)
        if m.eps != 1e-5:
            s["eps"] = m.eps
    elif isinstance(m, nn.LeakyReLU):
        s["negative_slope"] = m.negative_slope
    elif isinstance(m, nn.ELU):
        s["alpha"] = m.alpha
    elif isinstance(m, nn.GELU):
        if m.approximate != "none":
            s["approximate"] = m.approximate
    elif isinstance(m, (nn.Softmax, nn.LogSoftmax)):
        if m.dim is not None:
            s["dim"] = m.dim
    elif isinstance(m, nn.MaxPool2d):
        s.update(kernel_size=_pair_or_int(m.kernel_size))
        if m.stride != m.kernel_size:
            s["stride"] = _pair_or_int(m.stride)
        if m.padding:
            s["padding"] = _pair_or_int(m.padding)
        if m.ceil_mode:
            s["ceil_mode"] = True
    elif isinstance(m, nn.AvgPool2d):
        s.update(kernel_size=_pair_or_int(m.kernel_size))
        if m.stride != m.kernel_size:
            s["stride"] = _pair_or_int(m.stride)
        if m.padding:
            s["padding"] = _pair_or_int(m.padding)
        if m.ceil_mode:
            s["ceil_mode"] = True
        if not m.count_include_pad:
            s["count_include_pad"] = False
    elif isinstance(m, nn.AdaptiveAvgPool2d):
        s["output_size"] = _pair_or_int(m.output_size)
    elif isinstance(m, nn.Flatten):
        if m.start_dim != 1:
            s["start_dim"] = m.start_dim
        if m.end_dim != -1:
            s["end_dim"] = m.end_dim
    elif isinstance(m, nn.Upsample):
        if m.scale_factor is not None:
            sf = m.scale_factor
            s["scale_factor"] = list(sf) if isinstance(sf, tuple) else sf
        if m.size is not None:
            s["size"] = list(m.size) if isinstance(m.size, tuple) else m.size
        s["mode"] = m.mode
        if m.align_corners:
            s["align_corners"] = True
    elif isinstance(m, (nn.ReLU, nn.ReLU6, nn.Sigmoid, nn.Tanh, nn.SiLU, nn.Hardswish, nn.Hardsigmoid, nn.Identity, nn.Dropout)):
        pass
    else:
        raise ValueError(f"no --arch step for {t}")
    return s


@dataclass
class Case:
    name: str
    layers: List[str]
    config: str
    inputs: List[Tuple[tuple, str]]  # shapes WITH the batch
    make: Callable  # () -> nn.Module (Sequential or GraphNet)
    lo: float = -1.0
    hi: float = 1.0
    decomposed: bool = False  # also write model_decomposed.pt2 (run_decompositions())


CASES: List[Case] = []


def add(name, layers, config, inputs, make, **kw):
    if isinstance(layers, str):
        layers = [layers]
    CASES.append(Case(name, layers, config, inputs, make, **kw))


def seq(*mods):
    return lambda: nn.Sequential(*mods)


def graph(steps, mods, inputs=("input",)):
    """A GraphNet; mods is built by calling it, so weights come from the case's seed."""
    return GraphNet(steps, mods() if callable(mods) else mods, list(inputs))


B = 2
IMG = [((B, 3, 9, 11), "float32")]
IMG6 = [((B, 6, 8, 7), "float32")]
SEQ = [((B, 5, 13), "float32")]
VEC = [((B, 10), "float32")]

# Linear
add("linear", "Linear", "10->5", VEC, lambda: nn.Sequential(nn.Linear(10, 5)))
add("linear_nobias_relu", ["Linear", "ReLU"], "10->7 bias=False, ReLU", VEC, lambda: nn.Sequential(nn.Linear(10, 7, bias=False), nn.ReLU()))
add("linear_rank3", "Linear", "on [N,5,13] (last axis)", SEQ, lambda: nn.Sequential(nn.Linear(13, 4)))
# Conv1d
add("conv1d_k3_p1", "Conv1d", "k3 padding 1", SEQ, lambda: nn.Sequential(nn.Conv1d(5, 4, 3, padding=1)))
add("conv1d_k5_s2", "Conv1d", "k5 stride 2", SEQ, lambda: nn.Sequential(nn.Conv1d(5, 6, 5, stride=2)))
add("conv1d_d2_same", "Conv1d", "k3 dilation 2 padding same", SEQ, lambda: nn.Sequential(nn.Conv1d(5, 3, 3, dilation=2, padding="same")))
add("conv1d_groups", "Conv1d", "groups 2 (6->4)", [((B, 6, 11), "float32")], lambda: nn.Sequential(nn.Conv1d(6, 4, 3, groups=2)))
# Conv2d
add("conv2d_k3_p1", "Conv2d", "k3 s1 p1", IMG, lambda: nn.Sequential(nn.Conv2d(3, 5, 3, padding=1)))
add("conv2d_k3_s2", "Conv2d", "k3 s2 p0 odd size", IMG, lambda: nn.Sequential(nn.Conv2d(3, 5, 3, stride=2)))
add("conv2d_k3_s2_p1", "Conv2d", "k3 s2 p1 (symmetric, unlike TF same)", IMG, lambda: nn.Sequential(nn.Conv2d(3, 7, 3, stride=2, padding=1)))
add("conv2d_k5_d2", "Conv2d", "k5 dilation 2 p4", [((B, 2, 13, 12), "float32")], lambda: nn.Sequential(nn.Conv2d(2, 4, 5, dilation=2, padding=4)))
add("conv2d_same", "Conv2d", "k4 padding='same' (even kernel)", IMG6, lambda: nn.Sequential(nn.Conv2d(6, 3, 4, padding="same")))
add("conv2d_valid_rect", "Conv2d", "k(3,1) stride (2,1) padding (1,0)", IMG, lambda: nn.Sequential(nn.Conv2d(3, 5, (3, 1), stride=(2, 1), padding=(1, 0))))
add("conv2d_groups2", "Conv2d", "groups 2 (6->4) p1", IMG6, lambda: nn.Sequential(nn.Conv2d(6, 4, 3, groups=2, padding=1)))
add("conv2d_depthwise", "Conv2d", "depthwise groups=6 (6->12)", IMG6, lambda: nn.Sequential(nn.Conv2d(6, 12, 3, groups=6, padding=1)))
add("conv2d_k1_nobias", "Conv2d", "k1 bias=False", IMG6, lambda: nn.Sequential(nn.Conv2d(6, 9, 1, bias=False)))
add("conv2d_reflect", "Conv2d", "k3 p1 padding_mode reflect", IMG, lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect")))
add("conv2d_replicate", "Conv2d", "k3 p2 padding_mode replicate", IMG, lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=2, padding_mode="replicate")))
add("conv2d_circular", "Conv2d", "k3 p1 padding_mode circular", IMG, lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular")))
# ConvTranspose2d
add("convT_k3_s2", "ConvTranspose2d", "k3 s2 p1 output_padding 1", IMG6, lambda: nn.Sequential(nn.ConvTranspose2d(6, 5, 3, stride=2, padding=1, output_padding=1)))
add("convT_k2_s2", "ConvTranspose2d", "k2 s2", IMG, lambda: nn.Sequential(nn.ConvTranspose2d(3, 4, 2, stride=2)))
add("convT_k3_s1", "ConvTranspose2d", "k3 s1 p0 no bias", IMG, lambda: nn.Sequential(nn.ConvTranspose2d(3, 3, 3, bias=False)))
add("convT_k4_s2_p1", "ConvTranspose2d", "k4 s2 p1 on odd size", IMG, lambda: nn.Sequential(nn.ConvTranspose2d(3, 6, 4, stride=2, padding=1)))
# BatchNorm
add("bn2d_after_conv", ["BatchNorm2d", "Conv2d"], "conv (no bias) + BN", IMG, lambda: nn.Sequential(nn.Conv2d(3, 5, 3, padding=1, bias=False), nn.BatchNorm2d(5)))
add("bn2d_standalone", "BatchNorm2d", "on the input, eps 1e-3", IMG6, lambda: nn.Sequential(nn.BatchNorm2d(6, eps=1e-3)))
add("bn2d_noaffine", "BatchNorm2d", "affine=False", IMG6, lambda: nn.Sequential(nn.BatchNorm2d(6, affine=False)))
add("bn1d_vec", ["BatchNorm1d", "Linear"], "Linear + BN1d on [N,C]", VEC, lambda: nn.Sequential(nn.Linear(10, 6), nn.BatchNorm1d(6)))
add("bn1d_seq", "BatchNorm1d", "on [N,C,L]", SEQ, lambda: nn.Sequential(nn.BatchNorm1d(5)))
# Pooling
add("maxpool2d_2", "MaxPool2d", "k2 (odd size floors)", IMG, lambda: nn.Sequential(nn.MaxPool2d(2)))
add("maxpool2d_3_s2_p1", "MaxPool2d", "k3 s2 p1", IMG, lambda: nn.Sequential(nn.MaxPool2d(3, stride=2, padding=1)))
add("maxpool2d_ceil", "MaxPool2d", "k2 ceil_mode", IMG, lambda: nn.Sequential(nn.MaxPool2d(2, ceil_mode=True)))
add("avgpool2d_2", "AvgPool2d", "k2", IMG6, lambda: nn.Sequential(nn.AvgPool2d(2)))
add("avgpool2d_3_s2_p1", "AvgPool2d", "k3 s2 p1 count_include_pad", IMG, lambda: nn.Sequential(nn.AvgPool2d(3, stride=2, padding=1)))
add("avgpool2d_3_p1_excl", "AvgPool2d", "k3 s1 p1 count_include_pad=False", IMG, lambda: nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)))
add("adaptiveavg_1", ["AdaptiveAvgPool2d", "Flatten"], "output 1 + flatten", IMG, lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()))
add("adaptiveavg_2", "AdaptiveAvgPool2d", "output (2,2) on 8x6", [((B, 4, 8, 6), "float32")], lambda: nn.Sequential(nn.AdaptiveAvgPool2d(2)))
# Activations
for nm, mk in [("relu", nn.ReLU), ("relu6", nn.ReLU6), ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh), ("silu", nn.SiLU),
               ("hardswish", nn.Hardswish), ("hardsigmoid", nn.Hardsigmoid), ("gelu", nn.GELU), ("elu", nn.ELU), ("leakyrelu", nn.LeakyReLU)]:
    add(f"act_{nm}", mk.__name__, "default arguments", IMG6, (lambda m: lambda: nn.Sequential(m()))(mk), lo=-8 if nm == "relu6" else -4, hi=8 if nm == "relu6" else 4)
add("act_gelu_tanh", "GELU", "approximate='tanh'", IMG6, lambda: nn.Sequential(nn.GELU(approximate="tanh")), lo=-4, hi=4)
add("act_elu_0p5", "ELU", "alpha 0.5", IMG6, lambda: nn.Sequential(nn.ELU(alpha=0.5)), lo=-4, hi=4)
add("act_leakyrelu_0p2", "LeakyReLU", "negative_slope 0.2", IMG6, lambda: nn.Sequential(nn.LeakyReLU(0.2)), lo=-4, hi=4)
add("prelu_single", "PReLU", "one parameter", IMG6, lambda: nn.Sequential(nn.PReLU()), lo=-4, hi=4)
add("prelu_channels", ["PReLU", "Conv2d"], "per channel after conv", IMG, lambda: nn.Sequential(nn.Conv2d(3, 5, 3), nn.PReLU(5)), lo=-4, hi=4)
add("conv_relu6", ["Conv2d", "ReLU6"], "conv + ReLU6 (fusable)", IMG, lambda: nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.ReLU6()), lo=-4, hi=4)
add("conv_silu", ["Conv2d", "SiLU"], "conv k3 s2 + SiLU", IMG, lambda: nn.Sequential(nn.Conv2d(3, 6, 3, stride=2, padding=1), nn.SiLU()), lo=-3, hi=3)
add("linear_hardswish", ["Linear", "Hardswish"], "Linear + Hardswish", VEC, lambda: nn.Sequential(nn.Linear(10, 12), nn.Hardswish()), lo=-4, hi=4)
add("conv_hardsigmoid", ["Conv2d", "Hardsigmoid"], "1x1 conv + Hardsigmoid (SE gate)", IMG6, lambda: nn.Sequential(nn.Conv2d(6, 6, 1), nn.Hardsigmoid()), lo=-4, hi=4)
add("linear_tanh", ["Linear", "Tanh"], "Linear + Tanh", VEC, lambda: nn.Sequential(nn.Linear(10, 5), nn.Tanh()), lo=-3, hi=3)
add("identity_conv", ["Identity", "Conv2d"], "Identity before and after a conv", IMG, lambda: nn.Sequential(nn.Identity(), nn.Conv2d(3, 4, 3), nn.Identity()))
add("softmax_dim1", "Softmax", "dim=1 on [N,C]", VEC, lambda: nn.Sequential(nn.Softmax(dim=1)), lo=-4, hi=4)
add("softmax_dim_last_img", "Softmax", "dim=-1 on NCHW", IMG6, lambda: nn.Sequential(nn.Softmax(dim=-1)), lo=-4, hi=4)
add("softmax_implicit_4d", "Softmax", "dim=None on rank 4 (implicit dim 1)", IMG6, lambda: nn.Sequential(nn.Softmax()), lo=-4, hi=4)
add("softmax_implicit_3d", "Softmax", "dim=None on rank 3 (implicit dim 0)", SEQ, lambda: nn.Sequential(nn.Softmax()), lo=-4, hi=4)
add("logsoftmax_dim1", ["LogSoftmax", "Linear"], "Linear + LogSoftmax(dim=1)", VEC, lambda: nn.Sequential(nn.Linear(10, 6), nn.LogSoftmax(dim=1)), lo=-4, hi=4)
add("logsoftmax_implicit", "LogSoftmax", "dim=None on rank 2 (implicit dim 1)", VEC, lambda: nn.Sequential(nn.LogSoftmax()), lo=-4, hi=4)
# Shape
add("flatten_conv_linear", ["Flatten", "Conv2d", "Linear"], "conv -> Flatten -> Linear (C,H,W order)", IMG, lambda: nn.Sequential(nn.Conv2d(3, 3, 3, stride=2), nn.Flatten(), nn.Linear(3 * 4 * 5, 4)))
add("flatten_start2", "Flatten", "start_dim 2", IMG6, lambda: nn.Sequential(nn.Flatten(2)))
add("dropout_identity", ["Dropout", "Identity", "Linear"], "Dropout(0.5) and Identity between Linears", VEC, lambda: nn.Sequential(nn.Linear(10, 8), nn.Dropout(0.5), nn.Identity(), nn.Linear(8, 3)))
# Upsample
add("upsample_nearest_2", "Upsample", "scale 2 nearest", IMG6, lambda: nn.Sequential(nn.Upsample(scale_factor=2)))
add("upsample_nearest_size", "Upsample", "size (16,21) nearest (x2, x3)", IMG, lambda: nn.Sequential(nn.Upsample(size=(18, 33))))
add("upsample_bilinear", "Upsample", "scale 2 bilinear align_corners=False", IMG, lambda: nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear")))
add("upsample_bilinear_ac", "Upsample", "scale 2 bilinear align_corners=True", IMG6, lambda: nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)))
# Embedding / LayerNorm
add("embedding_linear", ["Embedding", "Flatten", "Linear"], "vocab 30 dim 4, flatten, Linear", [((B, 6), "int64")], lambda: nn.Sequential(nn.Embedding(30, 4), nn.Flatten(), nn.Linear(24, 3)), lo=0, hi=30)
add("embedding_only", "Embedding", "vocab 20 dim 7", [((B, 9), "int64")], lambda: nn.Sequential(nn.Embedding(20, 7)), lo=0, hi=20)
add("layernorm_last", "LayerNorm", "normalized_shape 13 on [N,5,13]", SEQ, lambda: nn.Sequential(nn.LayerNorm(13)))
add("layernorm_2d", "LayerNorm", "normalized_shape (8,7) on NCHW, eps 1e-6", IMG6, lambda: nn.Sequential(nn.LayerNorm((8, 7), eps=1e-6)))
add("layernorm_noaffine", ["LayerNorm", "Linear"], "elementwise_affine=False after Linear", VEC, lambda: nn.Sequential(nn.Linear(10, 9), nn.LayerNorm(9, elementwise_affine=False)))

# Composed blocks (GraphNet: branches; the --arch file is the step list)
def _resnet_block(cin, cout, stride):
    mods = {"conv1": nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), "bn1": nn.BatchNorm2d(cout),
            "conv2": nn.Conv2d(cout, cout, 3, padding=1, bias=False), "bn2": nn.BatchNorm2d(cout)}
    steps = [{"op": "Conv2d", "key": "conv1", "stride": stride, "padding": 1}, {"op": "BatchNorm2d", "key": "bn1"}, "ReLU",
             {"op": "Conv2d", "key": "conv2", "padding": 1}, {"op": "BatchNorm2d", "key": "bn2", "name": "main"}]
    short = "input"
    if stride != 1 or cin != cout:
        mods["down_conv"] = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
        mods["down_bn"] = nn.BatchNorm2d(cout)
        if stride != 1:
            steps += [{"op": "Conv2d", "key": "down_conv", "stride": stride, "from": "input"}]
        else:
            steps += [{"op": "Conv2d", "key": "down_conv", "from": "input"}]
        steps += [{"op": "BatchNorm2d", "key": "down_bn"}]
        short = "down_bn"
    steps += [{"op": "add", "from": ["main", short]}, "ReLU"]
    return graph(steps, mods)


def _mbv2(cin, cout, expand, stride):
    mid = cin * expand
    mods = {"expand": nn.Conv2d(cin, mid, 1, bias=False), "bn1": nn.BatchNorm2d(mid),
            "dw": nn.Conv2d(mid, mid, 3, stride=stride, padding=1, groups=mid, bias=False), "bn2": nn.BatchNorm2d(mid),
            "project": nn.Conv2d(mid, cout, 1, bias=False), "bn3": nn.BatchNorm2d(cout)}
    steps = [{"op": "Conv2d", "key": "expand"}, {"op": "BatchNorm2d", "key": "bn1"}, "ReLU6",
             {"op": "Conv2d", "key": "dw", "padding": 1, **({"stride": stride} if stride != 1 else {})},
             {"op": "BatchNorm2d", "key": "bn2"}, "ReLU6", {"op": "Conv2d", "key": "project"}, {"op": "BatchNorm2d", "key": "bn3"}]
    if stride == 1 and cin == cout:
        steps += [{"op": "add", "from": ["input", "bn3"]}]
    return graph(steps, mods)


def _unet():
    mods = {"e1": nn.Conv2d(3, 6, 3, padding=1), "e2": nn.Conv2d(6, 10, 3, padding=1), "b": nn.Conv2d(10, 12, 3, padding=1),
            "d2": nn.Conv2d(22, 10, 3, padding=1), "up1": nn.ConvTranspose2d(10, 6, 2, stride=2), "d1": nn.Conv2d(12, 6, 3, padding=1),
            "head": nn.Conv2d(6, 2, 1)}
    steps = [{"op": "Conv2d", "key": "e1", "padding": 1}, {"op": "ReLU", "name": "s1"}, {"op": "MaxPool2d", "kernel_size": 2},
             {"op": "Conv2d", "key": "e2", "padding": 1}, {"op": "ReLU", "name": "s2"}, {"op": "MaxPool2d", "kernel_size": 2},
             {"op": "Conv2d", "key": "b", "padding": 1}, "ReLU", {"op": "Upsample", "scale_factor": 2, "mode": "nearest", "name": "u2"},
             {"op": "cat", "from": ["u2", "s2"], "dim": 1}, {"op": "Conv2d", "key": "d2", "padding": 1}, "ReLU",
             {"op": "ConvTranspose2d", "key": "up1", "stride": 2}, {"op": "cat", "from": ["up1", "s1"], "dim": 1},
             {"op": "Conv2d", "key": "d1", "padding": 1}, "ReLU", {"op": "Conv2d", "key": "head"}, "Sigmoid"]
    return graph(steps, mods)


def _textcls(pool):
    mods = {"emb": nn.Embedding(100, 12), "fc1": nn.Linear(12, 8), "fc2": nn.Linear(8, 3)}
    steps = [{"op": "Embedding", "key": "emb"}, {"op": "mean", "dim": 1}, {"op": "Linear", "key": "fc1"}, "ReLU",
             {"op": "Linear", "key": "fc2"}, {"op": "Softmax", "dim": 1}]
    return graph(steps, mods)


add("block_resnet_id", ["ResNet basic block", "Conv2d", "BatchNorm2d", "ReLU", "add"], "identity shortcut, 8 channels", [((B, 8, 9, 9), "float32")], lambda: _resnet_block(8, 8, 1))
add("block_resnet_down", ["ResNet basic block", "Conv2d", "BatchNorm2d", "add"], "1x1 s2 projection shortcut, 6->10", [((B, 6, 9, 9), "float32")], lambda: _resnet_block(6, 10, 2))
add("block_mbv2_s1", ["MobileNetV2 block", "Conv2d", "BatchNorm2d", "ReLU6", "add"], "inverted residual stride 1, 8 ch, expand 6", [((B, 8, 10, 10), "float32")], lambda: _mbv2(8, 8, 6, 1))
add("block_mbv2_s2", ["MobileNetV2 block", "Conv2d", "BatchNorm2d", "ReLU6"], "inverted residual stride 2, 6->10, expand 4", [((B, 6, 11, 11), "float32")], lambda: _mbv2(6, 10, 4, 2))
add("block_unet", ["U-Net", "Conv2d", "MaxPool2d", "Upsample", "ConvTranspose2d", "cat"], "2-level encoder/decoder with skips", [((B, 3, 16, 12), "float32")], lambda: _unet())
add("block_mlp_ln", ["MLP", "Linear", "LayerNorm", "GELU", "Dropout"], "2 hidden layers with LayerNorm + GELU", [((B, 20), "float32")],
    lambda: nn.Sequential(nn.Linear(20, 16), nn.LayerNorm(16), nn.GELU(), nn.Dropout(0.1), nn.Linear(16, 16), nn.LayerNorm(16), nn.ReLU(), nn.Linear(16, 4), nn.Softmax(dim=1)))
add("block_textcls", ["Text classifier", "Embedding", "mean", "Linear", "Softmax"], "embedding + mean over tokens + MLP", [((B, 16), "int64")], lambda: _textcls("avg"), lo=0, hi=100)
add("block_lenet", ["LeNet", "Conv2d", "MaxPool2d", "Flatten", "Linear"], "LeNet-5 on 28x28", [((B, 1, 28, 28), "float32")],
    lambda: nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)))
add("block_vgg", ["VGG stack", "Conv2d", "BatchNorm2d", "MaxPool2d", "AdaptiveAvgPool2d", "Linear"], "conv-BN-ReLU x2 + head", [((B, 3, 16, 16), "float32")],
    lambda: nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 12, 3, padding=1), nn.BatchNorm2d(12), nn.ReLU(),
                          nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(12, 6), nn.ReLU(), nn.Dropout(), nn.Linear(6, 3)))
add("block_concat_branches", ["cat", "Conv2d"], "Inception-style: two branches concatenated on channels", IMG6,
    lambda: graph([{"op": "Conv2d", "key": "a", "padding": 1}, {"op": "Conv2d", "key": "b", "from": "input"}, {"op": "cat", "from": ["a", "b"], "dim": 1}, "ReLU"],
          lambda: {"a": nn.Conv2d(6, 5, 3, padding=1), "b": nn.Conv2d(6, 3, 1)}))
add("block_mul_gate", ["mul", "Sigmoid", "Linear"], "x * sigmoid(Linear(x))", VEC,
    lambda: graph([{"op": "Linear", "key": "gate"}, {"op": "Sigmoid", "name": "g"}, {"op": "mul", "from": ["input", "g"]}], lambda: {"gate": nn.Linear(10, 10)}))


# Recurrent (nn.LSTM, nn.GRU, nn.RNN): GraphNets, since these modules return
# tuples (ARCH.md: the step's `output` picks the sequence or h_n).
def _rnn_textcls():
    mods = {"emb": nn.Embedding(40, 8), "lstm": nn.LSTM(8, 10, batch_first=True), "fc": nn.Linear(10, 4)}
    steps = [{"op": "Embedding", "key": "emb"}, {"op": "LSTM", "key": "lstm", "batch_first": True, "output": "h_n"},
             {"op": "select", "dim": 0, "index": -1}, {"op": "Linear", "key": "fc"}]
    return graph(steps, mods)


def _rnn_gru_bidir2():
    mods = {"gru": nn.GRU(6, 5, num_layers=2, bidirectional=True, batch_first=True, dropout=0.3), "fc": nn.Linear(10, 3)}
    steps = [{"op": "GRU", "key": "gru", "num_layers": 2, "bidirectional": True, "batch_first": True},
             {"op": "Linear", "key": "fc"}]
    return graph(steps, mods)


def _rnn_tanh_seq():
    mods = {"rnn": nn.RNN(5, 7), "fc": nn.Linear(7, 2)}
    steps = [{"op": "RNN", "key": "rnn"}, {"op": "Linear", "key": "fc"}]
    return graph(steps, mods)


add("rnn_lstm_textcls", ["Text classifier", "Embedding", "LSTM", "select", "Linear"], "Embedding 40x8, LSTM 8->10 batch_first, h_n[-1], Linear",
    [((B, 12), "int64")], _rnn_textcls, lo=0, hi=40, decomposed=True)
add("rnn_gru_bidir2", ["GRU", "Linear"], "GRU 6->5, 2 layers, bidirectional, batch_first, dropout 0.3 (inert), Linear on the sequence",
    [((B, 7, 6), "float32")], _rnn_gru_bidir2, decomposed=True)
add("rnn_tanh_seqfirst", ["RNN", "Linear"], "RNN tanh 5->7, sequence-first [T, B, F], Linear on the sequence",
    [((9, B, 5), "float32")], _rnn_tanh_seq, decomposed=True)


def _rnn_stack():
    mods = {"lstm": nn.LSTM(5, 4, bidirectional=True), "rnn": nn.RNN(8, 3, num_layers=2, nonlinearity="relu"),
            "gru": nn.GRU(3, 4), "fc": nn.Linear(4, 2)}
    steps = [{"op": "LSTM", "key": "lstm", "bidirectional": True}, {"op": "RNN", "key": "rnn", "num_layers": 2, "nonlinearity": "relu"},
             {"op": "GRU", "key": "gru", "output": "h_n"}, {"op": "select", "dim": 0, "index": -1}, {"op": "Linear", "key": "fc"}]
    return graph(steps, mods)


add("rnn_stack_seqfirst", ["LSTM", "RNN", "GRU", "select", "Linear"],
    "sequence-first: bidirectional LSTM 5->4, 2-layer relu RNN 8->3, GRU 3->4 h_n[-1], Linear", [((6, B, 5), "float32")], _rnn_stack, decomposed=True)
