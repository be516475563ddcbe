"""Generates the small PyTorch test files of converter/torch/testdata.

    python3 testdata/gen/torch_fixtures.py hostile   # no torch needed (numpy only): hostile pickles, zip bomb,
                                                     # lying sizes, a torch-0.3-style legacy module file
    python3 testdata/gen/torch_fixtures.py classes   # stdlib only: custom/hostile classes and every pickle
                                                     # protocol, pickled by Python's own pickle (hostile/class_*,
                                                     # hostile/proto_*)
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


class _Stand:
    """Stand-ins for the globals torch.save pickles (torch.FloatStorage, torch._utils._rebuild_tensor_v2, module
    classes), registered in sys.modules so that Python's own pickle writes exactly the GLOBALs torch writes; close()
    removes them. Nothing of them is ever called."""

    def __init__(self):
        self.modules, self.attrs = [], []

    def module(self, name):
        import types

        if "." in name:
            self.module(name.rsplit(".", 1)[0])
        if name not in sys.modules:
            sys.modules[name] = types.ModuleType(name)
            self.modules.append(name)
        return sys.modules[name]

    def put(self, modname, obj):
        obj.__module__ = modname
        setattr(self.module(modname), obj.__qualname__, obj)
        self.attrs.append((modname, obj.__qualname__))
        return obj

    def cls(self, modname, name, base=object, **ns):
        return self.put(modname, type(name, (base,), dict(ns, __qualname__=name)))

    def func(self, modname, name):
        def f(*a, **k):
            raise AssertionError("a stand-in is never called")

        f.__qualname__ = f.__name__ = name
        return self.put(modname, f)

    def close(self):
        for modname, name in self.attrs:
            if hasattr(sys.modules.get(modname), name):
                delattr(sys.modules[modname], name)
        for m in self.modules:
            del sys.modules[m]


def _zip_fixed(path, records):
    """A torch-style zip archive of the given records with fixed timestamps (byte-identical reruns)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in records.items():
            z.writestr(zipfile.ZipInfo("archive/" + name, date_time=(1980, 1, 1, 0, 0, 0)), data)


def pickle_classes():
    """Custom and hostile classes, and a state_dict and a module at every pickle protocol, all written by Python's
    own pickle module (stdlib only) into converter/torch/testdata/hostile/:

      class_*.pt   a pickle that calls a user's class (REDUCE on __main__.Evil, as its __reduce__ asks), gives
                   its __new__ arguments (NEWOBJ, NEWOBJ_EX), calls a torch.nn module class or a module instance:
                   each must be refused by the allow-list, naming the class, with nothing run.
      proto_*.pt   the same state_dict ({weight: [[.5,1,1.5],[2,2.5,3]], bias: [-1,1]}) or Linear module saved
                   with pickle protocols 0-5 (zip) and 0-2 (legacy): protocols 1-5 load; protocol 0, whose
                   storage references are text persistent ids, is refused saying so.
    """
    import collections
    import copyreg

    d = os.path.join(OUT, "hostile")
    os.makedirs(d, exist_ok=True)
    cmd = "touch " + SENTINEL
    st = _Stand()
    try:
        FloatStorage = st.cls("torch", "FloatStorage")
        rebuild_tensor = st.func("torch._utils", "_rebuild_tensor_v2")
        rebuild_param = st.func("torch._utils", "_rebuild_parameter")
        Module = st.cls("torch.nn.modules.module", "Module")

        class Storage:
            def __init__(self, key, values):
                self.key, self.values = key, values

        class Tensor:
            def __init__(self, storage, size, stride):
                self.args = (storage, 0, size, stride, False, collections.OrderedDict())

            def __reduce_ex__(self, proto):
                return (rebuild_tensor, self.args)

        class Param:
            def __init__(self, t):
                self.t = t

            def __reduce_ex__(self, proto):
                return (rebuild_param, (self.t, True, collections.OrderedDict()))

        def reduce_self(self):
            return (type(self), (cmd,))

        def newobj_args(self, proto):
            return (copyreg.__newobj__, (type(self), cmd))

        Evil = st.cls("__main__", "Evil", __reduce__=reduce_self)
        PkgEvil = st.cls("mymodels.layers", "Evil", __reduce__=reduce_self)
        EvilNew = st.cls("__main__", "EvilNew", __reduce_ex__=newobj_args)
        EvilNewEx = st.cls("__main__", "EvilNewEx", __getnewargs_ex__=lambda self: ((cmd,), {"shell": True}))
        Linear = st.cls("torch.nn.modules.linear", "Linear", Module)
        CalledLinear = st.cls("torch.nn.modules.linear", "Bilinear", Module, __reduce__=lambda self: (type(self), (3, 4)))
        Net = st.cls("__main__", "Net", Module, __call__=lambda self, *a: None)  # nn.Module.__call__ runs forward

        class CallsInstance:
            def __reduce__(self):
                return (Net(), (cmd,))

        w = Storage("0", [0.5, 1, 1.5, 2, 2.5, 3])
        b = Storage("1", [-1, 1])

        def state_dict():
            return collections.OrderedDict([("weight", Tensor(w, (2, 3), (3, 1))), ("bias", Tensor(b, (2,), (1,)))])

        def linear():
            m = Linear.__new__(Linear)
            m.__dict__.update(training=False, _parameters=collections.OrderedDict([("weight", Param(Tensor(w, (2, 3), (3, 1)))), ("bias", Param(Tensor(b, (2,), (1,))))]),
                              _buffers=collections.OrderedDict(), _modules=collections.OrderedDict(), in_features=3, out_features=2)
            return m

        def raw(s):
            return struct.pack("<%df" % len(s.values), *s.values)

        class ZipPickler(pickle.Pickler):
            def persistent_id(self, obj):
                if isinstance(obj, Storage):
                    return ("storage", FloatStorage, obj.key, "cpu", len(obj.values))
                return None

        class LegacyPickler(pickle.Pickler):
            def persistent_id(self, obj):
                if isinstance(obj, Storage):
                    return ("storage", FloatStorage, obj.key, "cpu", len(obj.values), None)
                return None

        def save_zip(name, obj, proto):
            buf = io.BytesIO()
            ZipPickler(buf, protocol=proto).dump(obj)
            _zip_fixed(os.path.join(d, name), {"data.pkl": buf.getvalue(), "byteorder": b"little", "data/0": raw(w), "data/1": raw(b), "version": b"3\n"})

        def save_legacy(name, obj, proto):
            with open(os.path.join(d, name), "wb") as f:
                pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=proto)
                pickle.dump(1001, f, protocol=proto)
                pickle.dump({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 8}}, f, protocol=proto)
                LegacyPickler(f, protocol=proto).dump(obj)
                pickle.dump([w.key, b.key], f, protocol=proto)
                for s in (w, b):
                    f.write(struct.pack("<q", len(s.values)) + raw(s))

        for proto in range(6):
            save_zip("class_reduce_p%d.pt" % proto, collections.OrderedDict([("evil", Evil())]), proto)
            save_zip("proto_state_dict_p%d.pt" % proto, state_dict(), proto)
        for proto in range(3):
            save_zip("proto_module_p%d.pt" % proto, linear(), proto)
            save_legacy("proto_legacy_p%d.pt" % proto, state_dict(), proto)
        sd = state_dict()
        sd["evil"] = Evil()
        save_zip("class_reduce_state_dict.pt", sd, 2)
        save_legacy("class_reduce_legacy.pt", sd, 2)
        save_zip("class_pkg_reduce.pt", PkgEvil(), 2)
        save_zip("class_newobj_args.pt", EvilNew(), 2)
        save_zip("class_newobj_ex.pt", EvilNewEx(), 4)
        save_zip("class_module_reduce.pt", CalledLinear(), 2)
        save_zip("class_instance_call.pt", CallsInstance(), 2)
    finally:
        st.close()


if __name__ == "__main__":
    what = sys.argv[1:] or ["hostile", "models"]
    if "hostile" in what:
        hostile()
    if "legacy03" in what or "hostile" in what:
        legacy03()
    if "classes" in what or "hostile" in what:
        pickle_classes()
    if "models" in what:
        import gen_torch_models  # noqa: E402 (needs torch)
        gen_torch_models.main(OUT)
