"""Generates the small PyTorch test files of converter/torch/testdata.

    python3 testdata/gen/torch_fixtures.py hostile   # no torch needed: hostile pickles, zip bomb, lying sizes
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


if __name__ == "__main__":
    what = sys.argv[1:] or ["hostile", "models"]
    if "hostile" in what:
        hostile()
    if "models" in what:
        import gen_torch_models  # noqa: E402 (needs torch)
        gen_torch_models.main(OUT)
