"""Generate the PyTorch half of the corpus with the real framework.

For every case of torch_cases.py it writes, under OUT/torch/<case>/:

  model_full.pth   torch.save(model): the pickled module tree (an nn.Sequential,
                   or a GraphNet whose root class is custom and needs arch.yaml)
  state_dict.pth   torch.save(model.state_dict())
  arch.yaml        the edgeval --arch file (converter/torch/ARCH.md)
  model.pt2        torch.export.save of torch.export.export(model)
  model_ts.pt      torch.jit.save of torch.jit.trace(model)
  expected.npz     the seeded inputs and the outputs PyTorch computed (eval mode)
  case.json        what the case is and which file goes with which outputs

Usage: python gen_torch.py OUT_DIR [CASE...]   (see regen.sh)
"""

import os
import sys
import warnings

os.environ["PYTHONHASHSEED"] = "0"
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import yaml  # noqa: E402

from common import case_dir, input_array, rng_for, seed_of, write_json, write_npz  # noqa: E402
from torch_cases import CASES, GraphNet, step_of  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def randomize(model, rng):
    """Seeded weights; BatchNorm running statistics and affine terms that are not the identity."""
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.RNNBase):
                # Every weight and both biases of every gate drawn apart, wide
                # enough that the gates are neither saturated nor constant.
                for pn, p in m.named_parameters():
                    sd = 0.25 if pn.startswith("bias") else 0.45
                    p.copy_(torch.from_numpy(rng.normal(0, sd, tuple(p.shape)).astype(np.float32)))
                continue
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.copy_(torch.from_numpy(rng.normal(0, 0.2, m.num_features).astype(np.float32)))
                m.running_var.copy_(torch.from_numpy(rng.uniform(0.4, 1.6, m.num_features).astype(np.float32)))
                m.num_batches_tracked.fill_(100)
                if m.affine:
                    m.weight.copy_(torch.from_numpy(rng.uniform(0.6, 1.4, m.num_features).astype(np.float32)))
                    m.bias.copy_(torch.from_numpy(rng.normal(0, 0.2, m.num_features).astype(np.float32)))
            elif isinstance(m, nn.LayerNorm) and m.elementwise_affine:
                m.weight.copy_(torch.from_numpy(rng.uniform(0.6, 1.4, tuple(m.weight.shape)).astype(np.float32)))
                m.bias.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(m.bias.shape)).astype(np.float32)))
            elif isinstance(m, nn.PReLU):
                m.weight.copy_(torch.from_numpy(rng.uniform(0.05, 0.4, tuple(m.weight.shape)).astype(np.float32)))
            elif getattr(m, "bias", None) is not None and isinstance(m.bias, torch.nn.Parameter):
                m.bias.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(m.bias.shape)).astype(np.float32)))


def arch_of(model, case):
    if isinstance(model, GraphNet):
        steps = model.steps
    else:
        steps = []
        for k, m in model.named_children():
            s = step_of(k, m)
            steps.append(s["op"] if len(s) == 1 else s)
    doc = {"format": "edgeval-torch-arch/1"}
    if len(case.inputs) == 1 and case.inputs[0][1] == "float32":
        doc["input"] = list(case.inputs[0][0])
    else:
        doc["inputs"] = [{"name": n, "shape": list(s), "dtype": d} for n, (s, d) in zip(input_names(case), case.inputs)]
    doc["layers"] = steps
    return doc


def input_names(case):
    return ["input"] if len(case.inputs) == 1 else [f"input_{i}" for i in range(len(case.inputs))]


def err(e):
    return f"{type(e).__name__}: {str(e).strip().splitlines()[0][:160] if str(e).strip() else ''}"


def gen_case(root, case):
    d = case_dir(root, "torch", case.name)
    rng = rng_for("torch/" + case.name)
    torch.manual_seed(seed_of("torch/" + case.name))
    model = case.make()
    randomize(model, rng)
    model.eval()
    xs = [input_array(rng, s, dt, case.lo, case.hi) for s, dt in case.inputs]
    txs = tuple(torch.from_numpy(x) for x in xs)
    with torch.no_grad():
        y = model(*txs)
    ys = [y.numpy()]
    names = input_names(case)
    rec = {"name": case.name, "framework": "torch", "layers": case.layers, "config": case.config,
           "inputs": [{"name": n, "shape": list(x.shape), "dtype": str(x.dtype)} for n, x in zip(names, xs)],
           "outputs": [{"name": "output", "shape": list(ys[0].shape)}],
           "models": [], "tflite": [], "skipped": {}, "arch": "arch.yaml",
           "root": "custom" if isinstance(model, GraphNet) else "Sequential"}
    arrays = dict(zip(names, xs))
    arrays["output"] = ys[0].astype(np.float32)
    write_npz(os.path.join(d, "expected.npz"), arrays)
    with open(os.path.join(d, "arch.yaml"), "w") as f:
        f.write(f"# {case.name}: {case.config}\n")
        yaml.safe_dump(arch_of(model, case), f, default_flow_style=None, sort_keys=False, width=120)

    torch.save(model, os.path.join(d, "model_full.pth"))
    rec["models"].append({"format": "torch-full-pth", "file": "model_full.pth", "expected": "expected.npz",
                          "needs_arch": isinstance(model, GraphNet)})
    torch.save(model.state_dict(), os.path.join(d, "state_dict.pth"))
    rec["models"].append({"format": "torch-state-dict", "file": "state_dict.pth", "expected": "expected.npz", "needs_arch": True})
    try:
        ep = torch.export.export(model, txs)
        torch.export.save(ep, os.path.join(d, "model.pt2"))
        rec["models"].append({"format": "torch-export-pt2", "file": "model.pt2", "expected": "expected.npz"})
    except Exception as e:  # noqa: BLE001
        rec["skipped"]["torch-export-pt2"] = err(e)
    if case.decomposed:
        # The core ATen form (recurrent ops unrolled into matmuls and
        # elementwise ops).
        ep = torch.export.export(model, txs).run_decompositions()
        torch.export.save(ep, os.path.join(d, "model_decomposed.pt2"))
        rec["models"].append({"format": "torch-export-pt2-decomposed", "file": "model_decomposed.pt2", "expected": "expected.npz"})
    try:
        ts = torch.jit.trace(model, txs)
        torch.jit.save(ts, os.path.join(d, "model_ts.pt"))
        rec["models"].append({"format": "torchscript", "file": "model_ts.pt", "expected": "expected.npz"})
    except Exception as e:  # noqa: BLE001
        rec["skipped"]["torchscript"] = err(e)
    rec["versions"] = {"torch": torch.__version__}
    write_json(os.path.join(d, "case.json"), rec)
    return rec


def main():
    root = sys.argv[1]
    only = set(sys.argv[2:])
    for case in CASES:
        if only and case.name not in only:
            continue
        rec = gen_case(root, case)
        print(f"torch/{case.name}: {len(rec['models'])} models, skipped {sorted(rec['skipped'])}", flush=True)


if __name__ == "__main__":
    main()
