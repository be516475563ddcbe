"""Shared helpers of the corpus generators: deterministic files and case records.

Every file a generator writes must be byte-identical on a second run, so zips
(.npz, .keras) are written with a fixed timestamp and sorted members, and every
random number comes from a generator seeded by the case name.
"""

import hashlib
import io
import json
import os
import zipfile

import numpy as np

FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def seed_of(name: str) -> int:
    """A stable 32-bit seed derived from a case name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(seed_of(name))


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def write_npz(path: str, arrays: dict) -> None:
    """Write arrays (name -> ndarray) as an uncompressed .npz with fixed timestamps."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name in arrays:
            info = zipfile.ZipInfo(name + ".npy", date_time=FIXED_DATE)
            info.external_attr = 0o644 << 16
            z.writestr(info, _npy_bytes(arrays[name]))


def normalize_zip(path: str, rewrite=None) -> None:
    """Rewrite a zip archive with fixed timestamps and permissions, keeping member order.

    rewrite, if given, maps (member name, bytes) to new bytes (for example to
    drop a save date from a metadata file).
    """
    with zipfile.ZipFile(path) as z:
        members = [(i.filename, i.compress_type, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w") as z:
        for name, ctype, data in members:
            if rewrite is not None:
                data = rewrite(name, data)
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = ctype
            info.external_attr = 0o644 << 16
            z.writestr(info, data)


def write_json(path: str, obj) -> None:
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def input_array(rng, shape, dtype="float32", lo=-1.0, hi=1.0):
    """Seeded input: uniform floats in [lo, hi) or integers in [lo, hi)."""
    if dtype.startswith("int"):
        return rng.integers(int(lo), int(hi), size=shape).astype(dtype)
    return rng.uniform(lo, hi, size=shape).astype(dtype)


def case_dir(root: str, framework: str, name: str) -> str:
    d = os.path.join(root, framework, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    return d


def record_ops(path, into):
    """Adds the targets of the program in a .pt2 to into: target -> {arg name -> kinds}; returns the targets."""
    with zipfile.ZipFile(path) as z:
        name = [n for n in z.namelist() if n.endswith("models/model.json")][0]
        prog = json.loads(z.read(name))
    targets = set()
    for n in prog["graph_module"]["graph"]["nodes"]:
        t = n["target"]
        targets.add(t)
        args = into.setdefault(t, {})
        for a in n["inputs"]:
            kinds = args.setdefault(a["name"], [])
            for k in a["arg"]:
                if k not in kinds:
                    kinds.append(k)
                    kinds.sort()
    return sorted(targets)
