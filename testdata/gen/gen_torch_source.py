"""Generates converter/torch/testdata/source: tutorial-style PyTorch models
whose architecture edgeval reads from their own Python source (--source).

    /tmp/edgeval-gen/bin/python testdata/gen/gen_torch_source.py

For each case's model source, converter/torch/testdata/source/<case>/model.py (committed, written by hand: the
one copy, which the Go tests read too), it builds the model (only
the imports, classes, functions and literal constants of the file are run
here: never its dataset downloads or training loop), perturbs every weight
and calibrates then perturbs the BatchNorm statistics, takes two Adam steps so
that a training checkpoint holds real optimizer moments, and writes to
converter/torch/testdata/source/<case>/:

  state_dict.pth      torch.save(model.state_dict())
  checkpoint.pth      a training checkpoint ({epoch, model_state_dict, optimizer_state_dict, loss} or the
                      case's own layout)
  dataparallel.pth    the same checkpoint of nn.DataParallel(model) on CPU ("module." keys)
  expected.npz        input (batch 2, seeded) and torch's outputs (output, or output_0, output_1, ...)
  case.json           class, class arguments, input shape, files

plus a few single files: a Python-2-era legacy pickle (protocol 2,
OrderedDict([[k, v], ...]), __builtin__.set), a torch.compile ("_orig_mod.")
state_dict, a bfloat16 state_dict and a notebook (.ipynb) holding a source.
The normal `go test` reads only the committed outputs; it never runs Python.
"""
import ast
import collections
import copy
import json
import os
import pickle
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import seed_of  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "converter", "torch", "testdata", "source")

# case: (class, constructor args (Python literal text), input shape, checkpoint layout); the source is OUT/case/model.py
CASES = {
    "cifar_net": ("Net", "", [2, 3, 32, 32], "model_state_dict"),
    "mnist_net": ("Net", "", [2, 1, 28, 28], "model_state_dict"),
    "lenet": ("LeNet", "", [2, 1, 28, 28], "state_dict"),
    "mlp": ("MLP", "", [2, 784], "net"),
    "dueling_dqn": ("DuelingDQN", "8, 4", [2, 8], "model"),
    "train_fashion": ("FashionCNN", "", [2, 1, 28, 28], "state_dict"),
}


def load_classes(path):
    """Runs only the imports, defs, classes and literal assignments of a file."""
    tree = ast.parse(open(path).read(), path)
    keep = []
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            keep.append(node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            keep.append(ast.Try(body=[node], handlers=[ast.ExceptHandler(type=ast.Name("ImportError", ast.Load()), name=None, body=[ast.Pass()])], orelse=[], finalbody=[]))
        elif isinstance(node, ast.Assign):
            try:
                ast.literal_eval(node.value)
                keep.append(node)
            except ValueError:
                pass
    mod = ast.fix_missing_locations(ast.Module(body=keep, type_ignores=[]))
    ns = {"__name__": "model_source"}
    exec(compile(mod, path, "exec"), ns)
    return ns


def perturb(model, gen, x):
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))
    # Calibrate BatchNorm statistics on the inputs, then perturb them.
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if bns:
        model.train()
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
        with torch.no_grad():
            model(x)
        with torch.no_grad():
            for m in bns:
                m.running_mean.add_(0.1 * torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.mul_(1 + 0.2 * torch.rand(m.running_var.shape, generator=gen))
                m.weight.copy_(1 + 0.3 * torch.randn(m.weight.shape, generator=gen))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=gen))
                m.momentum = 0.1
    model.eval()


def first(out):
    return out[0] if isinstance(out, tuple) else out


def adam_steps(model, gen, shape):
    """Two Adam steps on a copy, to get a real optimizer state_dict."""
    m = copy.deepcopy(model)
    m.train()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(2):
        opt.zero_grad()
        first(m(torch.randn(shape, generator=gen))).float().pow(2).mean().backward()
        opt.step()
        sched.step()
    return opt.state_dict(), sched.state_dict()


def save(obj, path):
    torch.save(obj, path)


def checkpoint(layout, sd, opt, sched):
    if layout == "model_state_dict":
        return {"epoch": 3, "model_state_dict": sd, "optimizer_state_dict": opt, "loss": 0.125}
    if layout == "state_dict":
        return {"epoch": 3, "state_dict": sd, "optimizer": opt, "scheduler": sched, "best_acc": 0.91}
    return {layout: sd, "optimizer": opt, "steps": 1200}


def gen_case(name, spec):
    cls, cargs, shape, layout = spec
    d = os.path.join(OUT, name)
    ns = load_classes(os.path.join(d, "model.py"))
    torch.manual_seed(seed_of(name))
    gen = torch.Generator().manual_seed(seed_of(name))
    args = eval("(" + cargs + ",)") if cargs else ()
    model = ns[cls](*args)
    x = torch.rand(shape, generator=gen) * 2 - 1
    perturb(model, gen, x)
    opt, sched = adam_steps(model, gen, shape)
    with torch.no_grad():
        out = model(x)
    outs = list(out) if isinstance(out, tuple) else [out]
    arrays = {"input": x.numpy()}
    if len(outs) == 1:
        arrays["output"] = outs[0].numpy()
    else:
        for i, o in enumerate(outs):
            arrays[f"output_{i}"] = o.numpy()
    np.savez(os.path.join(d, "expected.npz"), **arrays)
    sd = model.state_dict()
    save(sd, os.path.join(d, "state_dict.pth"))
    save(checkpoint(layout, sd, opt, sched), os.path.join(d, "checkpoint.pth"))
    dp = nn.DataParallel(model)  # on CPU: no devices, keys "module.*"
    dsd = dp.state_dict()
    assert all(k.startswith("module.") for k in dsd)
    save(checkpoint(layout, dsd, opt, sched), os.path.join(d, "dataparallel.pth"))
    # Every file loads with weights_only=True and gives the same outputs.
    for f in ("state_dict.pth", "checkpoint.pth", "dataparallel.pth"):
        obj = torch.load(os.path.join(d, f), weights_only=True)
        m2 = ns[cls](*args)
        if f != "state_dict.pth":
            obj = obj[layout]
        obj = collections.OrderedDict((k[len("module."):] if k.startswith("module.") else k, v) for k, v in obj.items())
        m2.load_state_dict(obj)
        m2.eval()
        with torch.no_grad():
            o2 = m2(x)
        o2 = list(o2) if isinstance(o2, tuple) else [o2]
        for a, b in zip(outs, o2):
            assert torch.equal(a, b), (name, f)
    info = {"class": cls, "class_args": cargs, "input_shape": shape, "checkpoint_key": layout,
            "files": ["state_dict.pth", "checkpoint.pth", "dataparallel.pth"], "outputs": len(outs)}
    with open(os.path.join(d, "case.json"), "w") as fh:
        json.dump(info, fh, indent=1, sort_keys=True)
        fh.write("\n")
    return ns, model


class Py2OrderedDictPickler(pickle.Pickler):
    """Pickles an OrderedDict the way Python 2 did: OrderedDict([[k, v], ...]) with its __dict__."""

    def reducer_override(self, obj):
        if type(obj) is collections.OrderedDict:
            items = [[k, v] for k, v in obj.items()]
            state = dict(vars(obj))
            return (collections.OrderedDict, (items,), state or None)
        return NotImplemented


class Py2PickleModule:
    Pickler = Py2OrderedDictPickler
    Unpickler = pickle.Unpickler
    load = staticmethod(pickle.load)
    dump = staticmethod(pickle.dump)
    HIGHEST_PROTOCOL = 2


def extras(models):
    d = OUT
    # Python-2-era legacy file: protocol 2, OrderedDict([[k, v]]), a __builtin__.set.
    ns, lenet = models["lenet"]
    sd = lenet.state_dict()
    path = os.path.join(d, "lenet", "py2_legacy.pth")
    torch.save({"state_dict": sd, "tags": {"lenet", "mnist"}, "epoch": 7}, path, pickle_module=Py2PickleModule,
               pickle_protocol=2, _use_new_zipfile_serialization=False)
    raw = open(path, "rb").read()
    assert b"__builtin__\nset" in raw, "protocol 2 names builtins as __builtin__"
    obj = torch.load(path, weights_only=True)
    assert list(obj["state_dict"].keys()) == list(sd.keys())
    # torch.compile wraps the model: its state_dict keys start with "_orig_mod.".
    ns, cifar = models["cifar_net"]
    compiled = torch.compile(cifar)
    csd = compiled.state_dict()
    assert all(k.startswith("_orig_mod.") for k in csd)
    torch.save(csd, os.path.join(d, "cifar_net", "compiled.pth"))
    # bfloat16 and float16 weights.
    torch.save({k: v.to(torch.bfloat16) for k, v in cifar.state_dict().items()}, os.path.join(d, "cifar_net", "bf16.pth"))
    torch.save({k: v.to(torch.float16) for k, v in cifar.state_dict().items()}, os.path.join(d, "cifar_net", "f16.pth"))
    # The CIFAR source as a notebook: imports, the class, a training cell.
    lines = open(os.path.join(d, "cifar_net", "model.py")).read().splitlines(keepends=True)
    cls_at = next(i for i, l in enumerate(lines) if l.startswith("class "))
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# CIFAR-10 classifier\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [], "source": ["%matplotlib inline\n"] + lines[:cls_at]},
        {"cell_type": "code", "metadata": {}, "execution_count": 2, "outputs": [], "source": lines[cls_at:]},
        {"cell_type": "code", "metadata": {}, "execution_count": 3, "outputs": [],
         "source": ["!pip install torchvision\n", "net = Net()\n", "for epoch in range(2):\n", "    print(epoch)\n"]},
    ]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    with open(os.path.join(d, "cifar_net", "model.ipynb"), "w") as fh:
        json.dump(nb, fh, indent=1)
        fh.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    models = {}
    for name, spec in CASES.items():
        models[name] = gen_case(name, spec)
        print("wrote", name)
    extras(models)


if __name__ == "__main__":
    main()
