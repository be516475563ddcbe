"""torchvision classifiers as torch.export programs (.pt2), with PyTorch's own outputs.

Two tiers, each a corpus of cases (OUT/torch/<case>/case.json, read by package corpus):

  small  small members of the torchvision families, built from torchvision's own classes
         (the same modules and forward code, so the same ATen ops) with small widths, at
         32-64 px. Committed under testdata/corpus/torch/tv_<model>/.
  zoo    the 13 named torchvision classifiers (num_classes=10) at 64 px: about 2.2 GB, not
         committed; corpus.TestTorchZoo reads it when EDGEVAL_TORCH_ZOO names OUT.

Each case holds:

  model.pt2             torch.export.save(torch.export.export(model, (x,)))        (default ATen)
  model_decomposed.pt2  the same program after ep.run_decompositions()              (core ATen)
  expected.npz          input (batch 2, seeded, uniform [-1, 1)) and output: the eager model's result
  case.json             formats torch-export-pt2 and torch-export-pt2-decomposed

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
  add --only=a,b to make some cases only (their ops are added to an existing --ops record).

case.json's export_drift records, per .pt2, how far torch.export.load's output is from the eager one
(max abs difference / range): the decompositions of core ATen reorder float sums.
"""

import argparse
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
from torchvision.models import convnext, densenet, efficientnet, mnasnet, mobilenetv2, mobilenetv3, regnet  # noqa: E402
from torchvision.models import resnet, shufflenetv2, squeezenet, vgg  # noqa: E402

from common import case_dir, record_ops, rng_for, seed_of, write_json, write_npz  # noqa: E402

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


# The small tier: (builder, input size, what it is). Families whose torchvision class fixes
# large widths (ResNet, GoogLeNet, SqueezeNet, MNASNet's 1280-wide head, AlexNet) are in the
# zoo tier only; VGG is here with a small head.
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
    ep = torch.export.export(model, (tx,))
    progs = [("torch-export-pt2", "model.pt2", ep), ("torch-export-pt2-decomposed", "model_decomposed.pt2", ep.run_decompositions())]
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
    ops["models"][case] = {"default": targets["torch-export-pt2"], "decomposed": targets["torch-export-pt2-decomposed"]}
    write_json(os.path.join(d, "case.json"), rec)
    mb = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)) / 1e6
    print(f"torch/{case}: {size}px out range {float(y.max() - y.min()):.3g}, {mb:.2f} MB", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--tier", choices=["small", "zoo"], required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--ops", default="")
    a = ap.parse_args()
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
                gen_case(a.out, "tv_" + name, make(), size, config, ops)
    else:
        for name in ZOO:
            if not only or name in only:
                torch.manual_seed(seed_of("torch/" + name))
                gen_case(a.out, name, zoo_model(name), ZOO_SIZE, f"torchvision.models.{name}(num_classes=10), {ZOO_SIZE} px", ops)
    if a.ops:
        ops["targets"] = sorted(ops["args"])
        write_json(a.ops, ops)


if __name__ == "__main__":
    sys.exit(main())
