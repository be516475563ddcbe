"""Generates the small PyTorch test files of converter/torch/testdata.

    python3 testdata/gen/torch_fixtures.py hostile   # no torch needed (numpy only): hostile pickles, zip bomb,
                                                     # lying sizes, a torch-0.3-style legacy module file
    python3 testdata/gen/torch_fixtures.py models    # needs torch (pip install torch==2.5.1 numpy)

The normal `go test` reads only the committed outputs; it never runs Python.
"""
import io
import os
import pickle
import struct
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "converter", "torch", "testdata")
SENTINEL = "/tmp/edgeval_torch_pwned"  # what the payloads would create if anything ran them


def torch_zip(path, pkl, records=None, compress=zipfile.ZIP_STORED):
    """A torch>=1.6-style zip archive with the given data.pkl bytes."""
    with zipfile.ZipFile(path, "w", compress) as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", "little")
        for name, data in (records or {}).items():
            z.writestr("archive/" + name, data)
        z.writestr("archive/version", "3\n")


def legacy(path, pkl):
    """A legacy (non-zip) torch file whose data pickle is pkl."""
    with open(path, "wb") as f:
        pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}, f, protocol=2)
        f.write(pkl)
        pickle.dump([], f, protocol=2)


def hostile():
    d = os.path.join(OUT, "hostile")
    os.makedirs(d, exist_ok=True)
    cmd = ("touch " + SENTINEL).encode()
    b = lambda s: struct.pack("<I", len(s)) + s
    payloads = {
        # GLOBAL + REDUCE: os.system("touch ...")
        "reduce_os_system": b"\x80\x02cos\nsystem\nX" + b(cmd) + b"\x85R.",
        # STACK_GLOBAL + REDUCE: builtins.eval(...)
        "stack_global_eval": b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93X" + b(b"__import__('os').system('" + cmd + b"')") + b"\x85R.",
        # INST: subprocess.Popen(...)
        "inst_popen": b"(X" + b(cmd) + b"isubprocess\nPopen\n.",
        # OBJ: posix.system(...)
        "obj_posix_system": b"(cposix\nsystem\nX" + b(cmd) + b"o.",
        # NEWOBJ: subprocess.Popen.__new__
        "newobj_popen": b"\x80\x02csubprocess\nPopen\nX" + b(cmd) + b"\x85\x81.",
        # a state_dict whose second entry calls os.system
        "state_dict_os_system": b"\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00acos\nsystem\nX" + b(cmd) + b"\x85Ru.",
        # torch.load itself is not on the allow-list
        "torch_load": b"\x80\x02ctorch\nload\nX" + b(b"/etc/passwd") + b"\x85R.",
    }
    for name, pkl in payloads.items():
        torch_zip(os.path.join(d, name + ".pt"), pkl)
    legacy(os.path.join(d, "legacy_os_system.pt"), payloads["reduce_os_system"])

    # A storage that declares far more elements than its record holds.
    st = b"\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuJ\x00\x00\x00\x40tQK\x00J\x00\x00\x00\x40\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRu."
    torch_zip(os.path.join(d, "storage_size_lies.pt"), st, {"data/0": b"\x00" * 16})
    # A zip bomb: a deflated storage record that expands 1000x.
    torch_zip(os.path.join(d, "zip_bomb.pt"), st.replace(b"J\x00\x00\x00\x40tQ", b"J\x00\x00\x00\x01tQ").replace(b"J\x00\x00\x00\x40\x85", b"J\x00\x00\x00\x01\x85"),
              {"data/0": b"\x00" * (64 << 20)}, zipfile.ZIP_DEFLATED)
    # A pickle whose BINBYTES8 declares 2^62 bytes.
    torch_zip(os.path.join(d, "huge_binbytes.pt"), b"\x80\x04\x8e" + struct.pack("<Q", 1 << 62) + b"ab.")


def legacy03():
    """A pre-1.0 style legacy file of a full nn.Sequential, written without torch.

    It follows torch 0.3's torch.save: classes as ('module', cls, file, source) persistent ids (the source is
    never used), tensors as torch._utils._rebuild_tensor, storages as ('storage', cls, root_key, location, size,
    view_metadata) with views into a shared root storage tagged cuda:0, Parameters rebuilt by calling the
    Parameter class then BUILD with (requires_grad, volatile, hooks), and the thnn backend global.
    """
    import collections
    import types

    import numpy as np

    mods = {}

    def module(name):
        if name not in sys.modules:
            sys.modules[name] = types.ModuleType(name)
            mods[name] = sys.modules[name]
        return sys.modules[name]

    def fake_class(modname, name, base=object):
        cls = type(name, (base,), {"__module__": modname})
        setattr(module(modname), name, cls)
        return cls

    for m in ["torch", "torch._utils", "torch.nn", "torch.nn.modules", "torch.nn.backends", "torch.nn.backends.thnn"]:
        module(m)
    FloatStorage = fake_class("torch", "FloatStorage")

    def _rebuild_tensor(*a):
        raise AssertionError

    _rebuild_tensor.__module__, _rebuild_tensor.__qualname__ = "torch._utils", "_rebuild_tensor"
    module("torch._utils")._rebuild_tensor = _rebuild_tensor

    def _get_thnn_function_backend():
        raise AssertionError

    _get_thnn_function_backend.__module__ = "torch.nn.backends.thnn"
    _get_thnn_function_backend.__qualname__ = "_get_thnn_function_backend"
    module("torch.nn.backends.thnn")._get_thnn_function_backend = _get_thnn_function_backend

    class Backend:
        def __reduce__(self):
            return (_get_thnn_function_backend, ())

    Module = fake_class("torch.nn.modules.module", "Module")
    Linear = fake_class("torch.nn.modules.linear", "Linear", Module)
    ReLU = fake_class("torch.nn.modules.activation", "ReLU", Module)
    Sequential = fake_class("torch.nn.modules.container", "Sequential", Module)
    Parameter = fake_class("torch.nn.parameter", "Parameter")

    class Storage:
        def __init__(self, key, data):
            self.key, self.data = key, np.asarray(data, np.float32)

    class View:
        def __init__(self, root, key, offset, size):
            self.root, self.key, self.offset, self.size = root, key, offset, size

    class Tensor:
        def __init__(self, storage, offset, size, stride):
            self.args = (storage, offset, size, stride)

        def __reduce_ex__(self, proto):
            return (_rebuild_tensor, self.args)

    class Param:
        def __init__(self, t):
            self.t = t

        def __reduce_ex__(self, proto):
            return (Parameter, (self.t,), (True, False, collections.OrderedDict()))

    rng = np.random.default_rng(3)
    w1, b1 = rng.standard_normal((4, 3)), rng.standard_normal(4)
    w2, b2 = rng.standard_normal((2, 4)), rng.standard_normal(2)
    root = Storage("140000001", np.concatenate([w1.ravel(), b1, w2.ravel(), b2]))
    views = [View(root, "v1", 0, 12), View(root, "v2", 12, 4), View(root, "v3", 16, 8), View(root, "v4", 24, 2)]

    def mod(cls, params, **attrs):
        m = cls.__new__(cls)
        m.__dict__.update(_backend=Backend(), _parameters=collections.OrderedDict(params), _buffers=collections.OrderedDict(),
                          _backward_hooks=collections.OrderedDict(), _forward_hooks=collections.OrderedDict(),
                          _forward_pre_hooks=collections.OrderedDict(), _modules=collections.OrderedDict(), training=False, **attrs)
        return m

    fc1 = mod(Linear, [("weight", Param(Tensor(views[0], 0, (4, 3), (3, 1)))), ("bias", Param(Tensor(views[1], 0, (4,), (1,))))], in_features=3, out_features=4)
    fc2 = mod(Linear, [("weight", Param(Tensor(views[2], 0, (2, 4), (4, 1)))), ("bias", Param(Tensor(views[3], 0, (2,), (1,))))], in_features=4, out_features=2)
    seq = mod(Sequential, [])
    seq._modules.update([("0", fc1), ("1", mod(ReLU, [], threshold=0, value=0, inplace=False)), ("2", fc2)])

    seen = set()

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, type) and issubclass(obj, Module) and obj not in seen:  # as torch does: once per class
                seen.add(obj)
                return ("module", obj, "/old/model.py", "class X(nn.Module):\n    pass\n")
            if isinstance(obj, View):
                return ("storage", FloatStorage, obj.root.key, "cuda:0", obj.root.data.size, (obj.key, obj.offset, obj.size))
            return None

    path = os.path.join(OUT, "legacy_v03_sequential.pt")
    with open(path, "wb") as f:
        pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 8}}, f, protocol=2)
        P(f, protocol=2).dump(seq)
        pickle.dump([root.key], f, protocol=2)
        f.write(struct.pack("<q", root.data.size))
        f.write(root.data.astype("<f4").tobytes())
    x = rng.standard_normal((1, 3)).astype(np.float32)
    y = np.maximum(x @ w1.T.astype(np.float32) + b1.astype(np.float32), 0) @ w2.T.astype(np.float32) + b2.astype(np.float32)
    np.savez(os.path.join(OUT, "legacy_v03_sequential.npz"), input=x, output=y.astype(np.float32))
    for m in mods:
        del sys.modules[m]


if __name__ == "__main__":
    what = sys.argv[1:] or ["hostile", "models"]
    if "hostile" in what:
        hostile()
    if "legacy03" in what or "hostile" in what:
        legacy03()
    if "models" in what:
        import gen_torch_models  # noqa: E402 (needs torch)
        gen_torch_models.main(OUT)
