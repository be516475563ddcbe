"""Write testdata/gen/README.md: how to regenerate, and the coverage table (layer x configuration x formats).

Usage: python gen_readme.py CORPUS_DIR README_PATH
"""

import glob
import json
import os
import sys
from collections import defaultdict

FORMAT_ABBR = {
    "tf-keras-h5": "k2.h5", "keras3": ".keras", "keras3-h5": "k3.h5",
    "tf-keras-weights-h5": "k2.weights.h5+json", "keras3-weights-h5": "k3.weights.h5+json",
    "torch-full-pth": "full.pth", "torch-state-dict": "sd.pth+arch", "torch-export-pt2": ".pt2", "torchscript": "ts.pt",
    "torch-export-pt2-decomposed": "core.pt2",
}

HEAD = """# Generated layer-coverage corpus

`testdata/corpus/` holds small models made by the real frameworks, with seeded
inputs, the framework's own outputs and, for Keras models, the real TFLite
converter's `.tflite`. The Go tests in package `corpus` (`go test ./corpus/`)
walk it without Python. This file is written by `gen_readme.py`; do not edit it
by hand.

## Regenerate

```sh
python3.11 -m venv /tmp/edgeval-gen
/tmp/edgeval-gen/bin/pip install -r testdata/gen/requirements.txt
python3.11 -m venv /tmp/edgeval-lt      # litert-torch pins its own stack
/tmp/edgeval-lt/bin/pip install -r testdata/gen/requirements-litert-torch.txt
bash testdata/gen/regen.sh
```

Only some Keras cases (writes exactly the files the full run writes for them, and
touches no other case; run it from `testdata/gen/`):

```sh
cd testdata/gen
export PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= TF_ENABLE_ONEDNN_OPTS=0
/tmp/edgeval-gen/bin/python gen_keras.py ../corpus --only=honesty_tfop_ops,honesty_deep_f32
/tmp/edgeval-gen/bin/python gen_readme.py ../corpus README.md
```

Everything is seeded (per case, from the case name) and archives are written with
fixed timestamps, so a second run gives byte-identical files. Nothing is downloaded
from a model hub: weights are seeded random values; BatchNorm running statistics
and affine terms are random too (never the identity).

## Layout

One directory per case, `keras/<case>/` or `torch/<case>/`, with `case.json`
(layers, configuration, inputs and outputs in order, and which model file goes
with which expected outputs) and:

| file | made by |
|---|---|
| `model_k2.h5` | tf_keras `model.save` (Keras 2 HDF5) |
| `model.keras`, `model_k3.h5` | Keras 3 `model.save` (same weights) |
| `model_k2.weights.h5` + `model_k2.json`, `model_k3.weights.h5` + `model_k3.json` | `save_weights` and `to_json()` (composed blocks) |
| `expected.npz` | inputs (`in_0`, … / `input`) and the framework's outputs (output layer names / `output`), batch 2 |
| `expected_k3.npz` | Keras 3's outputs where Keras 3 computes something else (hard_sigmoid, …) |
| `tf_float32.tflite` | `tf.lite.TFLiteConverter.from_keras_model` (tf_keras model) |
| `tf_float16/dynamic/int8.tflite` | the same with quantization (composed blocks; int8 has int8 I/O and a 16-sample representative set) |
| `model_full.pth` | `torch.save(model)` (nn.Sequential, or a custom `GraphNet` root that needs `arch.yaml`) |
| `state_dict.pth` + `arch.yaml` | `torch.save(model.state_dict())` and the `--arch` file (converter/torch/ARCH.md) |
| `model.pt2` | `torch.export.save(torch.export.export(model, inputs))` |
| `model_ts.pt` | `torch.jit.save(torch.jit.trace(model, inputs))` |
| `litert_torch.tflite` | `litert_torch.convert(model, inputs).export(...)` (static batch 2, NCHW inputs) |

`case.json` may also hold `notes` (what an honesty control is there to catch: the
`honesty_*` and `zoo_*` cases) and `f64_drift` (how far the framework's float32
outputs are from a float64 evaluation of the same model). Cases made with
`calibrate` have BatchNorm moving statistics measured on the inputs, layer by
layer, then perturbed (`gen_keras.calibrate_bn`) instead of drawn at random.

## The zoo (out of tree)

`zoo.py` writes real `keras.applications` architectures (MobileNetV3Small,
InceptionV3, MobileNetV2, ResNet50, EfficientNetB0, ConvNeXtTiny, EfficientNetV2B0,
and RegNetY002 and ResNetRS50, which only tf_keras has; weights=None, classes=10,
96x96, seeded weights, calibrated BatchNorm) with their inputs, the framework's
outputs (tf_keras, Keras 3 and a float64 evaluation), the real converters' `.tflite`
files and a perturbed InceptionV3 twin (one BatchNorm epsilon changed in the `.h5`)
that a validation must fail. It is about 1.7 GB, so it is not committed; the Go
test that reads it runs only when `EDGEVAL_ZOO` names it.

```sh
cd testdata/gen
PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python zoo.py /tmp/edgeval-zoo   # ~10 min on idle cores
PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python zoo.py /tmp/edgeval-zoo --only=inception_v3
PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python zoo.py /tmp/edgeval-zoo --f64-only
```

Each `keras/<model>/` under it is a corpus case (`case.json`, so `corpus.Load`
reads the directory); `manifest.json` and `README.md` there record the parameters,
file sizes and the measured drifts. The layout is in `zoo.py`'s docstring.
`expected64.npy` (tf_keras, for the `.h5`) and `expected64_k3.npy` (Keras 3, for the
`.keras`) are the same application built with floatx float64 and the file's weights,
with the scalars the float32 model rounds to float32 rounded so (BatchNorm/LayerNorm
epsilons, Rescaling's scale and offset, Normalization's sqrt(variance), MobileNetV3's
1/6): the float32 model evaluated exactly, against which `reference/ref64` must agree
to 1e-9 of range (`internal/zoo64`; `EDGEVAL_ZOO=DIR go test ./corpus -run ZooFloat64`).
`--f64-only` adds them to a zoo made earlier (~3 min).

## torchvision classifiers as torch.export programs and full pickles

`gen_torchvision.py` saves torchvision classifiers (torch and torchvision as pinned
in `requirements.txt`) as a full pickle, `model.pth` (`torch.save(model)`, loaded back
and checked; the first model of each case, so the corpus's on-device check converts it),
and exports them twice: `model.pt2` is `torch.export.export`'s default graph
(with in-place ops such as `add_`, `hardswish_`, `dropout_`) and `model_decomposed.pt2`
the same program after `run_decompositions()` (core ATen: `as_strided`,
`native_layer_norm`, `split_with_sizes` ...); `expected.npz` holds the eager model's
output. Weights are seeded and perturbed (random biases and norm affine terms, linear
weights at 1/sqrt(fan_in), ConvNeXt layer scales), BatchNorm statistics calibrated on
seeded inputs and then perturbed. The small tier (`tv_*`, committed, 32-64 px, small
widths of the same torchvision classes) is written by `regen.sh`; the zoo tier (the 13
named classifiers, num_classes=10, 64 px, about 2.2 GB) is not committed and is read by
`go test ./corpus -run TorchZoo` when `EDGEVAL_TORCH_ZOO` names it. The zoo run also
records every ATen op the 13 models emit (`converter/torch/testdata/torchvision_ops.json`,
checked by `TestTorchvisionOpTable`). `--pickle-only` adds `model.pth` to cases made
earlier (the model is rebuilt from the same seeds and must reproduce `expected.npz`
exactly); `--f64-only` adds `expected64.npz` to zoo cases made earlier (the rebuilt
model, `model.double()` with every module's `eps` rounded to float32 as the float32
kernels round it, on the same inputs: what `reference/ref64` must match to 1e-9 of range,
`EDGEVAL_TORCH_ZOO=DIR go test ./corpus -run ZooFloat64`; the zoo tier writes it too);
`--refusals DIR` writes the full pickle converter/torch must refuse (a user's
subclass of a torchvision class) to `converter/torch/testdata/torchvision`.
`EDGEVAL_TORCH_ZOO=DIR go test ./converter/torch -run TorchvisionZooPickles` checks the
zoo's full pickles. `--state-dict-only` adds `state_dict.pth` and an `arch.yaml` naming the
torchvision builder (`{op: torchvision, model: resnet18, num_classes: 10}`) to the cases a
builder call makes (`STATE_DICT_BUILDERS`: `tv_mobilenet_v2` and 8 zoo models; the tiers
write them too), after loading the state_dict strictly into a fresh model from that call;
`EDGEVAL_TORCH_ZOO=DIR go test ./converter/torch -run TorchvisionZooStateDicts` checks them.
`--builder-shapes FILE` writes the state_dict keys and shapes of every builder call the
arch op knows (meta device, no weights) to `converter/torch/testdata/torchvision_builders.json`.

```sh
cd testdata/gen
PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python gen_torchvision.py ../corpus --tier=small
PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python gen_torchvision.py /tmp/edgeval-torch-zoo --tier=zoo --ops=../../converter/torch/testdata/torchvision_ops.json
PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python gen_torchvision.py /tmp/edgeval-torch-zoo --tier=zoo --pickle-only
PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python gen_torchvision.py /tmp/edgeval-torch-zoo --tier=zoo --state-dict-only
PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python gen_torchvision.py ../corpus --tier=small --only=none --builder-shapes=../../converter/torch/testdata/torchvision_builders.json
PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python gen_torchvision.py /tmp/edgeval-torch-zoo --tier=zoo --f64-only
PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python gen_torchvision.py ../corpus --tier=small --only=none --refusals ../../converter/torch/testdata/torchvision
```

## Tutorial-style models read with their own source (--source)

`gen_torch_source.py` builds the model classes of `converter/torch/testdata/source/*/model.py` (tutorial-style
sources: the CIFAR-10 tutorial's classifier, an MNIST net with dropout and log_softmax,
a LeNet with `view(-1, N)`, an MLP from a ModuleList comprehension, a dueling DQN, and a
file that also holds dataset downloads and a training loop, which the generator never
runs), perturbs the weights, calibrates then perturbs BatchNorm statistics, takes two
Adam steps for real optimizer state, and writes to `converter/torch/testdata/source/`
each model as a state_dict, a training checkpoint and a DataParallel checkpoint
(`nn.DataParallel` on CPU: `module.` keys), with the source and torch's outputs; plus a
Python-2-era legacy pickle, a `torch.compile` (`_orig_mod.`) state_dict, bfloat16 and
float16 files and the CIFAR source as a notebook.

```sh
PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python testdata/gen/gen_torch_source.py
```

## PyTorch attention models

`gen_torch_attention.py` writes the `attn_*` cases: a tiny `vit_b_16`-shaped torchvision
`VisionTransformer`, two 2-layer `nn.TransformerEncoder` text encoders (post-norm relu
batch-first with a final norm; pre-norm gelu sequence-first), `nn.MultiheadAttention` with
kdim/vdim returning its head-averaged weights (and a sequence-first one without bias), and `F.scaled_dot_product_attention` with a
float mask input holding `-inf` (one query row fully masked), a constant boolean mask and
`is_causal`, and minGPT's hand-written attention (`masked_fill(-inf)` of a sliced tril
buffer). Each is written as `model.pt2`, `model_decomposed.pt2`, `model_full.pth`
(library classes only) and, where `--arch` can express it, `state_dict.pth` + `arch.yaml`;
`expected.npz` holds the eager outputs. The `.pt2` files are rewritten with fixed zip
timestamps, and the Python object ids `run_decompositions()` leaves in node metadata set
to 0, so a second run gives the same bytes.

```sh
cd testdata/gen
PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= /tmp/edgeval-gen/bin/python gen_torch_attention.py ../corpus [--only=vit,mha]
```

"""


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    recs = []
    for p in sorted(glob.glob(os.path.join(corpus, "*", "*", "case.json"))):
        with open(p) as f:
            recs.append(json.load(f))
    by_layer = defaultdict(list)
    for r in recs:
        for layer in r["layers"]:
            by_layer[(r["framework"], layer)].append(r)
    lines = [HEAD]
    versions = {}
    for r in recs:
        versions.update(r.get("versions", {}))
    n_keras = sum(r["framework"] == "keras" for r in recs)
    n_torch = sum(r["framework"] == "torch" for r in recs)
    lines.append(f"## Coverage\n\n{len(recs)} cases ({n_keras} Keras, {n_torch} PyTorch), made with "
                 + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ".\n")
    lines.append("Per layer: the number of cases that contain it (a case counts for every layer it names).\n")
    lines.append("| framework | layer | cases |\n|---|---|---|")
    for (fw, layer), rs in sorted(by_layer.items()):
        lines.append(f"| {fw} | {layer} | {len(rs)} |")
    lines.append("\n## Cases\n")
    lines.append("| case | layers | configuration | inputs | formats | TFLite (real converter) | not made |\n|---|---|---|---|---|---|---|")
    tool = {"keras": "", "torch": "litert-torch "}
    for r in recs:
        fmts = " ".join(FORMAT_ABBR.get(m["format"], m["format"]) for m in r["models"])
        tfl = " ".join(tool[r["framework"]] + t["precision"] for t in r["tflite"]) or "–"
        ins = ", ".join(f"{i['dtype']}{i['shape']}" for i in r["inputs"])
        skipped = "; ".join(f"{k}: {v}" for k, v in sorted(r["skipped"].items())).replace("|", "\\|") or "–"
        lines.append(f"| {r['framework']}/{r['name']} | {', '.join(r['layers'])} | {r['config']} | {ins} | {fmts} | {tfl} | {skipped} |")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
