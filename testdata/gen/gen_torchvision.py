"""torchvision classifiers as torch.export programs (.pt2), with PyTorch's own outputs.

Two tiers, each a corpus of cases (OUT/torch/<case>/case.json, read by package corpus):

  small  small members of the torchvision families, built from torchvision's own classes
         (the same modules and forward code, so the same ATen ops) with small widths, at
         32-64 px. Committed under testdata/corpus/torch/tv_<model>/.
  zoo    the 13 named torchvision classifiers (num_classes=10) at 64 px: about 2.2 GB, not
         committed; corpus.TestTorchZoo reads it when EDGEVAL_TORCH_ZOO names OUT.

Each case holds:

  model.pth             torch.save(model): the full pickle, loaded back and checked before it is written
  model.pt2             torch.export.save(torch.export.export(model, (x,)))        (default ATen)
  model_decomposed.pt2  the same program after ep.run_decompositions()              (core ATen)
  expected.npz          input (batch 2, seeded, uniform [-1, 1)) and output: the eager model's result
  case.json             formats torch-full-pth, torch-export-pt2 and torch-export-pt2-decomposed

Weights make every layer matter: seeded; convolutions keep torchvision's init, linear layers
get 1/sqrt(fan_in) weights, every bias, BatchNorm/LayerNorm affine term and ConvNeXt layer
scale is drawn at random; BatchNorm running statistics are calibrated on seeded inputs (train
mode, cumulative average) and then perturbed, so no BatchNorm is the identity and none is
train-mode statistics either. Both .pt2 files are loaded back with torch.export.load and must
reproduce the eager output (within 1e-5 of its range) before the case is written.

  --ops FILE  also records, for every model of the tier, the ATen targets of both programs
              and the argument names and kinds each target is serialized with (the op table
              converter/torch's TestTorchvisionOpTable checks; committed as
              converter/torch/testdata/torchvision_ops.json from the zoo tier).

Usage (from testdata/gen):
  PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python gen_torchvision.py ../corpus --tier=small
  PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python gen_torchvision.py /tmp/edgeval-torch-zoo \
      --tier=zoo --ops=../../converter/torch/testdata/torchvision_ops.json
  --pickle-only adds model.pth to cases made earlier (the model is rebuilt from the same seeds and must
  reproduce expected.npz exactly), e.g. to the zoo without exporting it again;
  --f64-only adds expected64.npz to zoo cases made earlier: the model rebuilt from the same seeds (it must
  reproduce expected.npz exactly), then model.double() on the same inputs widened to float64, every module's
  eps rounded to float32 as the float32 kernels round it (input, output float64): the float32 model evaluated
  exactly, which reference/ref64 must match to ~1e-9 of range where float32 results differ by summation order
  (internal/zoo64, corpus.TestZooFloat64; the zoo tier writes it too);
  --state-dict-only adds state_dict.pth (torch.save(model.state_dict()) of the model rebuilt from the same
  seeds; it must reproduce expected.npz exactly) and arch.yaml (`{op: torchvision, model: <builder>, ...}`,
  converter/torch/ARCH.md) to the cases whose model a torchvision builder makes (STATE_DICT_BUILDERS): the
  state_dict is first loaded strictly into a fresh model from that builder call, which must give the same output;
  the case's case.json gains a torch-state-dict model entry (needs_arch) and its arch (the tiers write them too);
  --builder-shapes FILE writes, for every builder call of BUILDER_SHAPES, the keys and shapes of its
  state_dict (built on the meta device: no weights), which converter/torch's TestTorchvisionBuilderShapes
  compares with the module tree the arch op builds (committed as converter/torch/testdata/torchvision_builders.json);
  --refusals DIR writes the full pickles converter/torch's tests must refuse (a user's subclass of a
  torchvision class) into DIR (converter/torch/testdata/torchvision);
  add --only=a,b to make some cases only (their ops are added to an existing --ops record).

case.json's export_drift records, per .pt2, how far torch.export.load's output is from the eager one
(max abs difference / range): the decompositions of core ATen reorder float sums.
"""

import argparse
import copy
import json
import os
import sys
import tempfile
import warnings
import zipfile

os.environ.setdefault("PYTHONHASHSEED", "0")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torchvision  # noqa: E402
from torchvision import models as tvm  # noqa: E402
from torchvision.models import convnext, densenet, efficientnet, mnasnet, mobilenetv2  # noqa: E402
from torchvision.models import mobilenetv3, regnet, resnet, shufflenetv2, squeezenet, vgg  # noqa: E402
from functools import partial  # noqa: E402
import importlib  # noqa: E402

# torchvision.models.alexnet and .googlenet are also the builder functions' names: import the modules.
alexnet = importlib.import_module("torchvision.models.alexnet")
googlenet = importlib.import_module("torchvision.models.googlenet")

from common import case_dir, normalize_zip, record_ops, rng_for, seed_of, write_json, write_npz  # noqa: E402

torch.set_num_threads(1)

# The 13 classifiers of the zoo tier: torchvision's builders, num_classes=10, 64 px.
ZOO = ["resnet18", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "shufflenet_v2_x0_5", "squeezenet1_1",
       "mnasnet0_5", "regnet_x_400mf", "googlenet", "densenet121", "vgg11_bn", "convnext_tiny", "alexnet"]
ZOO_SIZE = 64


def zoo_model(name):
    kw = {"weights": None, "num_classes": 10}
    if name == "googlenet":
        kw.update(aux_logits=False, init_weights=False)
    return getattr(tvm, name)(**kw)


def _mbv3_small():
    setting, last = mobilenetv3._mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.25)
    return mobilenetv3.MobileNetV3(setting, last_channel=64, num_classes=10)


def _effnet_small():
    setting, last = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.34)
    return efficientnet.EfficientNet(setting, dropout=0.2, num_classes=10, last_channel=64)


def _regnet_small():
    bp = regnet.BlockParams.from_init_params(depth=4, w_0=8, w_a=8.0, w_m=2.0, group_width=8)
    return regnet.RegNet(bp, num_classes=10, stem_width=8)


def _convnext_small():
    cfg = [convnext.CNBlockConfig(8, 16, 1), convnext.CNBlockConfig(16, 24, 1), convnext.CNBlockConfig(24, 32, 1),
           convnext.CNBlockConfig(32, None, 1)]
    return convnext.ConvNeXt(cfg, stochastic_depth_prob=0.1, num_classes=10)


def _vgg_small():
    m = vgg.VGG(vgg.make_layers([8, "M", 16, "M"], batch_norm=True), num_classes=10, init_weights=False)
    # VGG's own head is 25088-4096-4096 wide (400 MB): the same forward with a small head.
    m.classifier = nn.Sequential(nn.Linear(16 * 7 * 7, 32), nn.ReLU(True), nn.Dropout(), nn.Linear(32, 10))
    return m


def _mbv3_large():
    setting, last = mobilenetv3._mobilenet_v3_conf("mobilenet_v3_large", width_mult=0.25)
    return mobilenetv3.MobileNetV3(setting, last_channel=64, num_classes=10)


def _effnet_v2_small():
    # efficientnet_v2's block kinds (FusedMBConv then MBConv) and norm layer, small widths.
    setting = [efficientnet.FusedMBConvConfig(1, 3, 1, 8, 8, 2), efficientnet.FusedMBConvConfig(4, 3, 2, 8, 16, 1),
               efficientnet.MBConvConfig(4, 3, 2, 16, 24, 2)]
    return efficientnet.EfficientNet(setting, dropout=0.2, stochastic_depth_prob=0.2, num_classes=10, last_channel=64,
                                     norm_layer=partial(nn.BatchNorm2d, eps=1e-3))


def _resnet_small():
    # torchvision's ResNet and its _make_layer at small widths: BasicBlock stages, then Bottleneck
    # stages (with downsampling shortcuts), norm_layer a functools.partial (as users write it).
    m = resnet.ResNet(resnet.BasicBlock, [1, 1, 1, 1], num_classes=10, norm_layer=partial(nn.BatchNorm2d, eps=1e-4))
    m.inplanes = 8
    m.conv1 = nn.Conv2d(3, 8, kernel_size=7, stride=2, padding=3, bias=False)
    m.bn1 = m._norm_layer(8)
    m.layer1 = m._make_layer(resnet.BasicBlock, 8, 2)
    m.layer2 = m._make_layer(resnet.BasicBlock, 16, 1, stride=2)
    m.layer3 = m._make_layer(resnet.Bottleneck, 8, 2, stride=2)
    m.layer4 = m._make_layer(resnet.Bottleneck, 8, 1, stride=1)
    m.fc = nn.Linear(32, 10)
    return m


def _googlenet_small():
    # GoogLeNet's trunk (BasicConv2d, Inception, ceil-mode pools) at small widths.
    m = googlenet.GoogLeNet(num_classes=10, aux_logits=False, init_weights=False)
    C, I = googlenet.BasicConv2d, googlenet.Inception
    m.conv1, m.conv2, m.conv3 = C(3, 8, kernel_size=7, stride=2, padding=3), C(8, 8, kernel_size=1), C(8, 12, kernel_size=3, padding=1)
    widths = [("inception3a", (4, 4, 6, 2, 3, 3)), ("inception3b", (6, 4, 8, 2, 4, 4)), ("inception4a", (6, 4, 8, 2, 3, 3)),
              ("inception4b", (5, 4, 8, 2, 3, 4)), ("inception4c", (4, 4, 8, 2, 3, 3)), ("inception4d", (4, 4, 8, 2, 3, 3)),
              ("inception4e", (6, 4, 8, 2, 4, 4)), ("inception5a", (6, 4, 8, 2, 4, 4)), ("inception5b", (8, 4, 8, 2, 4, 4))]
    cin = 12
    for name, (a, b, c, d, e, f) in widths:
        setattr(m, name, I(cin, a, b, c, d, e, f))
        cin = a + c + e + f
    m.fc = nn.Linear(cin, 10)
    return m


def _squeezenet_small():
    m = squeezenet.SqueezeNet("1_0", num_classes=10)
    F = squeezenet.Fire
    m.features = nn.Sequential(nn.Conv2d(3, 16, kernel_size=7, stride=2), nn.ReLU(inplace=True),
                               nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True), F(16, 4, 8, 8), F(16, 4, 8, 8),
                               nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True), F(16, 8, 16, 16))
    m.classifier = nn.Sequential(nn.Dropout(p=0.5), nn.Conv2d(32, 10, kernel_size=1), nn.ReLU(inplace=True),
                                 nn.AdaptiveAvgPool2d((1, 1)))
    return m


def _alexnet_small():
    m = alexnet.AlexNet(num_classes=10)
    m.features = nn.Sequential(nn.Conv2d(3, 8, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
                               nn.MaxPool2d(kernel_size=3, stride=2), nn.Conv2d(8, 16, kernel_size=5, padding=2),
                               nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=3, stride=2))
    m.classifier = nn.Sequential(nn.Dropout(p=0.5), nn.Linear(16 * 6 * 6, 32), nn.ReLU(inplace=True), nn.Dropout(p=0.5),
                                 nn.Linear(32, 32), nn.ReLU(inplace=True), nn.Linear(32, 10))
    return m


# The small tier: (builder, input size, what it is). Families whose torchvision class fixes
# large widths (ResNet, GoogLeNet, SqueezeNet, AlexNet, VGG) are built by torchvision's class
# with its children replaced by torchvision's own blocks at small widths (the same forward).
SMALL = {
    "mobilenet_v2": (lambda: mobilenetv2.MobileNetV2(num_classes=10, width_mult=0.25, round_nearest=4), 32,
                     "MobileNetV2(width_mult=0.25, round_nearest=4)"),
    "mobilenet_v3_small": (_mbv3_small, 32, "MobileNetV3 small conf, width_mult=0.25, last_channel=64"),
    "efficientnet_b0": (_effnet_small, 32, "EfficientNet b0 conf, width_mult=0.25, depth_mult=0.34, last_channel=64"),
    "shufflenet_v2": (lambda: shufflenetv2.ShuffleNetV2([2, 2, 2], [8, 16, 32, 64, 64], num_classes=10), 64,
                      "ShuffleNetV2(stages_repeats=[2,2,2], stages_out_channels=[8,16,32,64,64])"),
    "regnet_x": (_regnet_small, 32, "RegNet(BlockParams(depth=4, w_0=8, w_a=8, w_m=2, group_width=8), stem_width=8)"),
    "densenet": (lambda: densenet.DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16, bn_size=2,
                                           num_classes=10), 32,
                 "DenseNet(growth_rate=8, block_config=(2,2,2,2), num_init_features=16, bn_size=2)"),
    "convnext": (_convnext_small, 32, "ConvNeXt(CNBlockConfig 8-16-24-32, one block each, stochastic_depth_prob=0.1)"),
    "vgg_bn_upsample": (_vgg_small, 16,
                        "VGG(make_layers([8,M,16,M], batch_norm)), classifier 784-32-10: 4x4 features adaptive-pooled up to 7x7"),
    "mobilenet_v3_large": (_mbv3_large, 32, "MobileNetV3 large conf, width_mult=0.25, last_channel=64"),
    "efficientnet_v2": (_effnet_v2_small, 32, "EfficientNet: FusedMBConv(1,3,1,8,8,2), FusedMBConv(4,3,2,8,16,1), "
                        "MBConv(4,3,2,16,24,2), BatchNorm eps 1e-3, last_channel=64"),
    "resnet": (_resnet_small, 32, "ResNet, norm_layer=partial(BatchNorm2d, eps=1e-4), _make_layer stages "
               "BasicBlock 8x2, 16 s2, Bottleneck 8x2 s2, 8 (32 wide)"),
    "googlenet": (_googlenet_small, 48, "GoogLeNet(aux_logits=False) trunk with BasicConv2d/Inception at small widths, 48 px (odd sizes into the ceil-mode pools)"),
    "squeezenet": (_squeezenet_small, 64, "SqueezeNet with small Fire modules (16-32 wide)"),
    "mnasnet": (lambda: mnasnet.MNASNet(alpha=0.1, num_classes=10), 32, "MNASNet(alpha=0.1)"),
    "alexnet": (_alexnet_small, 64, "AlexNet with small features (8, 16) and classifier 576-32-32-10"),
}


def prepare(model, rng, size):
    """Seeded, perturbed weights and calibrated, perturbed BatchNorm statistics; eval mode."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.copy_(torch.from_numpy(rng.normal(0, 1 / np.sqrt(m.in_features), tuple(m.weight.shape)).astype(np.float32)))
            if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)) and m.weight is not None:
                m.weight.copy_(torch.from_numpy(rng.uniform(0.6, 1.4, tuple(m.weight.shape)).astype(np.float32)))
            if getattr(m, "bias", None) is not None and isinstance(m.bias, nn.Parameter):
                m.bias.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(m.bias.shape)).astype(np.float32)))
            if isinstance(m, convnext.CNBlock):
                m.layer_scale.copy_(torch.from_numpy(rng.uniform(0.3, 1.0, tuple(m.layer_scale.shape)).astype(np.float32)))
        bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
        if bns:
            model.train()
            for _ in range(4):
                model(torch.from_numpy(rng.uniform(-1, 1, (8, 3, size, size)).astype(np.float32)))
        for m in bns:
            m.momentum = 0.1
            sd = m.running_var.sqrt()
            m.running_mean.add_(torch.from_numpy(rng.normal(0, 0.1, m.num_features).astype(np.float32)) * sd)
            m.running_var.mul_(torch.from_numpy(rng.uniform(0.7, 1.3, m.num_features).astype(np.float32)))
    model.eval()
    return model


def rel_err(a, b):
    rng = float(b.max() - b.min()) or 1.0
    return float(np.abs(a - b).max()) / rng


def gen_case(root, case, model, size, config, ops):
    d = case_dir(root, "torch", case)
    rng = rng_for("torch/" + case)
    torch.manual_seed(seed_of("torch/" + case))
    prepare(model, rng, size)
    x = rng.uniform(-1, 1, (2, 3, size, size)).astype(np.float32)
    tx = torch.from_numpy(x)
    with torch.no_grad():
        y = model(tx).numpy().astype(np.float32)
    rec = {"name": case, "framework": "torch", "layers": ["torchvision " + type(model).__name__], "config": config,
           "inputs": [{"name": "input", "shape": list(x.shape), "dtype": "float32"}],
           "outputs": [{"name": "output", "shape": list(y.shape)}], "models": [], "tflite": [], "skipped": {},
           "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__}}
    write_npz(os.path.join(d, "expected.npz"), {"input": x, "output": y})
    if case in ZOO:
        write_f64(d, model, x)
    ep = torch.export.export(model, (tx,))
    progs = [("torch-export-pt2", "model.pt2", ep), ("torch-export-pt2-decomposed", "model_decomposed.pt2", ep.run_decompositions())]
    write_pickle(d, model, tx, y, rec)
    targets = {}
    for fmt, fn, prog in progs:
        p = os.path.join(d, fn)
        torch.export.save(prog, p)
        with torch.no_grad():
            back = torch.export.load(p).module()(tx).numpy()
        e = rel_err(back, y)
        # A gross misexport fails here; float drift (core ATen decompositions reorder sums) is recorded.
        if e > 1e-3:
            raise SystemExit(f"{case}/{fn}: torch.export.load output differs from eager by {e:.2g} of range")
        rec.setdefault("export_drift", {})[fn] = e
        rec["models"].append({"format": fmt, "file": fn, "expected": "expected.npz"})
        targets[fmt] = record_ops(p, ops["args"])
    if case in STATE_DICT_BUILDERS:
        write_state_dict(d, case, model, tx, y, rec)
    ops["models"][case] = {"default": targets["torch-export-pt2"], "decomposed": targets["torch-export-pt2-decomposed"]}
    write_json(os.path.join(d, "case.json"), rec)
    mb = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)) / 1e6
    print(f"torch/{case}: {size}px out range {float(y.max() - y.min()):.3g}, {mb:.2f} MB", flush=True)


def write_pickle(d, model, tx, y, rec):
    """The full pickle (torch.save(model)) as model.pth, checked by loading it back."""
    p = os.path.join(d, "model.pth")
    torch.save(model, p)
    normalize_zip(p)
    with torch.no_grad():
        back = torch.load(p, weights_only=False)(tx).numpy()
    if not np.array_equal(back, y):
        raise SystemExit(f"{d}/model.pth: torch.load output differs from eager by {rel_err(back, y):.2g} of range")
    # First: the corpus converts a case's first model for the on-device check (the .pt2's graph is the
    # same, converter/torch's TestTorchvisionPickles checks).
    rec["models"] = [{"format": "torch-full-pth", "file": "model.pth", "expected": "expected.npz"}] + \
        [m for m in rec["models"] if m["format"] != "torch-full-pth"]


def rebuild(root, case, model, size):
    """Rebuilds a case made earlier from the same seeds; the model must reproduce the case's expected
    output exactly. Returns the case's directory, input, output and case.json record."""
    d = os.path.join(root, "torch", case)
    rng = rng_for("torch/" + case)
    torch.manual_seed(seed_of("torch/" + case))
    prepare(model, rng, size)
    with np.load(os.path.join(d, "expected.npz")) as z:
        x, want = z["input"], z["output"]
    tx = torch.from_numpy(x)
    with torch.no_grad():
        y = model(tx).numpy().astype(np.float32)
    if not np.array_equal(y, want):
        raise SystemExit(f"{case}: the rebuilt model differs from expected.npz by {rel_err(y, want):.2g} of range")
    with open(os.path.join(d, "case.json")) as f:
        rec = json.load(f)
    return d, tx, y, rec


def pickle_only(root, case, model, size):
    """Adds the full pickle to a case made earlier (see rebuild)."""
    d, tx, y, rec = rebuild(root, case, model, size)
    write_pickle(d, model, tx, y, rec)
    write_json(os.path.join(d, "case.json"), rec)
    print(f"torch/{case}: model.pth {os.path.getsize(os.path.join(d, 'model.pth')) / 1e6:.2f} MB", flush=True)


def write_f64(d, model, x):
    """expected64.npz: the same model and weights in float64 (model.double()) on the inputs widened exactly, with
    every module's eps rounded to float32 as the float32 kernels round it: the float32 model evaluated exactly."""
    m64 = copy.deepcopy(model).double().eval()
    for m in m64.modules():
        if isinstance(getattr(m, "eps", None), float):
            m.eps = float(np.float32(m.eps))
    with torch.no_grad():
        y64 = m64(torch.from_numpy(x.astype(np.float64))).numpy()
    write_npz(os.path.join(d, "expected64.npz"), {"input": x.astype(np.float64), "output": y64})
    return y64


def f64_only(root, case, model, size):
    """Adds expected64.npz to a zoo case made earlier (the model rebuilt from the same seeds must reproduce
    the case's float32 output exactly)."""
    d = os.path.join(root, "torch", case)
    rng = rng_for("torch/" + case)
    torch.manual_seed(seed_of("torch/" + case))
    prepare(model, rng, size)
    with np.load(os.path.join(d, "expected.npz")) as z:
        x, want = z["input"], z["output"]
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy().astype(np.float32)
    if not np.array_equal(y, want):
        raise SystemExit(f"{case}: the rebuilt model differs from expected.npz by {rel_err(y, want):.2g} of range")
    y64 = write_f64(d, model, x)
    print(f"torch/{case}: expected64.npz, float32 vs float64 {rel_err(want.astype(np.float64), y64):.3g} of range", flush=True)


# The builder call (torchvision name, keyword arguments) that makes each case's model, for --state-dict-only.
# Zoo cases are the builders themselves; of the small tier only MobileNetV2's is a builder call (the others
# replace children at small widths). GoogLeNet's arch must state transform_input (the builder sets it with weights).
STATE_DICT_BUILDERS = {
    "tv_mobilenet_v2": ("mobilenet_v2", {"num_classes": 10, "width_mult": 0.25, "round_nearest": 4}),
    **{n: (n, {"num_classes": 10}) for n in ["resnet18", "mobilenet_v2", "vgg11_bn", "alexnet", "squeezenet1_1", "densenet121",
                                                    "mobilenet_v3_small", "efficientnet_b0", "shufflenet_v2_x0_5",
                                                    "mnasnet0_5", "regnet_x_400mf", "convnext_tiny"]},
    "googlenet": ("googlenet", {"num_classes": 10, "aux_logits": False, "init_weights": False, "transform_input": False}),
}


# Builder calls whose state_dict keys and shapes --builder-shapes records: every builder the arch op
# `torchvision` knows, with default and changed arguments.
BUILDER_SHAPES = [(n, {}) for n in ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
                                    "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2",
                                    "mobilenet_v2", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
                                    "vgg19", "vgg19_bn", "alexnet", "squeezenet1_0", "squeezenet1_1", "densenet121",
                                    "densenet161", "densenet169", "densenet201", "mobilenet_v3_large",
                                    "mobilenet_v3_small"] + [f"efficientnet_b{i}" for i in range(8)] +
                                   [f"efficientnet_v2_{v}" for v in "sml"] +
                                   [f"shufflenet_v2_x{v}" for v in ["0_5", "1_0", "1_5", "2_0"]] +
                                   [f"mnasnet{v}" for v in ["0_5", "0_75", "1_0", "1_3"]] +
                                   [f"regnet_{k}_{v}" for k, vs in [("y", ["400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf",
                                                                         "32gf", "128gf"]),
                                                                   ("x", ["400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf",
                                                                          "32gf"])] for v in vs] +
                                   [f"convnext_{v}" for v in ["tiny", "small", "base", "large"]] +
                                   ["vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14"]] + [
    ("vit_b_32", {"num_classes": 10, "image_size": 64, "representation_size": 32}),
    ("regnet_x_400mf", {"num_classes": 10, "stem_width": 16}),
    ("googlenet", {"transform_input": False}), ("googlenet", {"num_classes": 10, "aux_logits": False, "transform_input": False}),
    ("mobilenet_v3_small", {"width_mult": 0.75, "reduced_tail": True, "dilated": True}),
    ("mobilenet_v3_large", {"num_classes": 10, "reduced_tail": True}),
    ("resnet18", {"num_classes": 10}), ("mobilenet_v2", {"num_classes": 10, "width_mult": 0.35}),
    ("mobilenet_v2", {"width_mult": 1.4, "round_nearest": 4}), ("densenet121", {"num_classes": 7, "bn_size": 2}),
    ("squeezenet1_0", {"num_classes": 3}), ("vgg13_bn", {"num_classes": 5}),
]


def builder_shapes(path):
    # RegNet's BlockParams.from_init_params reads its width tensors back (.tolist()): run it on the CPU inside the
    # meta-device context the models are built in.
    init = regnet.BlockParams.from_init_params.__func__

    def cpu_init(cls, *a, **kw):
        with torch.device("cpu"):
            return init(cls, *a, **kw)

    regnet.BlockParams.from_init_params = classmethod(cpu_init)
    out = []
    for name, kw in BUILDER_SHAPES:
        with torch.device("meta"):
            m = getattr(tvm, name)(weights=None, **kw)
        out.append({"model": name, "args": kw, "state_dict": [[k, list(v.shape)] for k, v in m.state_dict().items()
                                                              if not k.endswith("num_batches_tracked")]})
    with open(path, "w") as f:
        json.dump({"torchvision": torchvision.__version__.split("+")[0], "builders": out}, f, separators=(",", ":"))
        f.write("\n")
    print(f"{path}: {len(out)} builder calls, {os.path.getsize(path) / 1e3:.0f} kB")


def write_state_dict(d, case, model, tx, y, rec):
    """state_dict.pth and arch.yaml naming the case's builder call, checked by loading the state_dict strictly into a
    fresh model from that call; adds the torch-state-dict entry to rec."""
    builder, kw = STATE_DICT_BUILDERS[case]
    p = os.path.join(d, "state_dict.pth")
    torch.save(model.state_dict(), p)
    normalize_zip(p)
    fresh = getattr(tvm, builder)(weights=None, **kw)
    fresh.load_state_dict(torch.load(p, weights_only=True), strict=True)
    fresh.eval()
    with torch.no_grad():
        back = fresh(tx).numpy()
    if not np.array_equal(back, y):
        raise SystemExit(f"{case}: torchvision.models.{builder}(**{kw}) with the state_dict differs by {rel_err(back, y):.2g} of range")
    args = "".join(f", {k}: {v}" for k, v in kw.items())
    with open(os.path.join(d, "arch.yaml"), "w") as f:
        f.write(f"# {case}: torchvision.models.{builder}(**{kw}) saved as a bare state_dict\n"
                f"format: edgeval-torch-arch/1\ninput: {list(tx.shape)}\nlayers:\n  - {{op: torchvision, model: {builder}{args}}}\n")
    rec["arch"] = "arch.yaml"
    rec["models"] = [m for m in rec["models"] if m["format"] != "torch-state-dict"] + \
        [{"format": "torch-state-dict", "file": "state_dict.pth", "expected": "expected.npz", "needs_arch": True}]


def state_dict_only(root, case, model, size):
    """Adds state_dict.pth and arch.yaml to a case made earlier (see --state-dict-only)."""
    d, tx, y, rec = rebuild(root, case, model, size)
    write_state_dict(d, case, model, tx, y, rec)
    write_json(os.path.join(d, "case.json"), rec)
    p = os.path.join(d, "state_dict.pth")
    print(f"torch/{case}: state_dict.pth {os.path.getsize(p) / 1e6:.2f} MB, arch.yaml {STATE_DICT_BUILDERS[case][0]}", flush=True)


class SubclassedMobileNetV2(mobilenetv2.MobileNetV2):
    """A user's subclass of a torchvision class: its forward differs (it pickles as __main__'s)."""

    def forward(self, x):
        return super().forward(x) * 2


def write_refusals(out):
    """converter/torch/testdata/torchvision: full pickles the reader must refuse, by name."""
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(seed_of("torch/tv_refused"))
    m = SubclassedMobileNetV2(num_classes=10, width_mult=0.25, round_nearest=4, inverted_residual_setting=[[1, 8, 1, 1], [2, 8, 1, 2]])
    m.eval()
    # ViT, TransformerEncoder, MultiheadAttention and LSTM/GRU/RNN full pickles are read (corpus attn_*, rnn_*).
    p = os.path.join(out, "subclass_mobilenet_v2.pth")
    torch.save(m, p)
    normalize_zip(p)
    print(p, os.path.getsize(p))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--tier", choices=["small", "zoo"], required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--ops", default="")
    ap.add_argument("--pickle-only", action="store_true",
                    help="add model.pth to cases made earlier (same seeds; the output must match expected.npz)")
    ap.add_argument("--f64-only", action="store_true",
                    help="zoo tier: add expected64.npz (the model in float64) to cases made earlier")
    ap.add_argument("--state-dict-only", action="store_true",
                    help="add state_dict.pth and an arch.yaml naming the torchvision builder to cases made earlier")
    ap.add_argument("--refusals", default="", help="also write the refused full pickles into this directory")
    ap.add_argument("--builder-shapes", default="", help="write the state_dict keys and shapes of the builder calls "
                    "of BUILDER_SHAPES into this JSON file")
    a = ap.parse_args()
    if a.builder_shapes:
        builder_shapes(a.builder_shapes)
    if a.refusals:
        write_refusals(a.refusals)
    only = set(filter(None, a.only.split(",")))
    ops = {"torch": torch.__version__.split("+")[0], "torchvision": torchvision.__version__.split("+")[0],
           "tier": a.tier, "models": {}, "args": {}}
    if a.ops and only and os.path.exists(a.ops):
        # --only adds to the record of an earlier run of the same tier and versions.
        with open(a.ops) as f:
            old = json.load(f)
        if all(old.get(k) == ops[k] for k in ("torch", "torchvision", "tier")):
            ops["models"], ops["args"] = old["models"], old["args"]
    if a.tier == "small":
        for name, (make, size, config) in SMALL.items():
            if not only or name in only:
                torch.manual_seed(seed_of("torch/tv_" + name))
                if a.state_dict_only:
                    if "tv_" + name in STATE_DICT_BUILDERS:
                        state_dict_only(a.out, "tv_" + name, make(), size)
                elif a.pickle_only:
                    pickle_only(a.out, "tv_" + name, make(), size)
                else:
                    gen_case(a.out, "tv_" + name, make(), size, config, ops)
    else:
        for name in ZOO:
            if not only or name in only:
                torch.manual_seed(seed_of("torch/" + name))
                if a.state_dict_only:
                    if name in STATE_DICT_BUILDERS:
                        state_dict_only(a.out, name, zoo_model(name), ZOO_SIZE)
                elif a.f64_only:
                    f64_only(a.out, name, zoo_model(name), ZOO_SIZE)
                elif a.pickle_only:
                    pickle_only(a.out, name, zoo_model(name), ZOO_SIZE)
                else:
                    gen_case(a.out, name, zoo_model(name), ZOO_SIZE, f"torchvision.models.{name}(num_classes=10), {ZOO_SIZE} px", ops)
    if a.ops:
        ops["targets"] = sorted(ops["args"])
        write_json(a.ops, ops)


if __name__ == "__main__":
    sys.exit(main())
