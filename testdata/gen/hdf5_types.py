"""Generate internal/hdf5/testdata/types.h5: one dataset or attribute per
datatype the reader must handle (and a few it must refuse), written by h5py.

    /tmp/kvenv/bin/python testdata/gen/hdf5_types.py internal/hdf5/testdata/types.h5

(h5py 3.14.0 comes with the Keras venv of keras3_fixtures.py.)
"""

import sys

import h5py
import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "internal/hdf5/testdata/types.h5"
with h5py.File(out, "w") as f:
    base = np.arange(-3, 3).reshape(2, 3)
    for dt in ["float16", "float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]:
        f.create_dataset(dt, data=base.astype(dt) if not dt.startswith("uint") else (base + 3).astype(dt))
    f.create_dataset("float32_be", data=base.astype(">f4"))
    f.create_dataset("scalar", data=np.float32(2.5))
    f.create_dataset("empty", data=np.zeros((0, 4), "float32"))
    f.create_dataset("chunked_gzip", data=np.arange(1000, dtype="float32").reshape(10, 100), chunks=(5, 50), compression="gzip")
    f.create_dataset("bool", data=np.array([True, False]))
    f.create_dataset("complex", data=np.array([1 + 2j], "complex64"))
    f.create_dataset("strings", data=np.array([b"a", b"bc"]))
    g = f.create_group("g")
    g.attrs["fixed_scalar"] = np.bytes_(b"hello")
    g.attrs["fixed_array"] = np.array([b"x", b"yz", b"full"], dtype="S4")
    g.attrs.create("vlen_array", ["one", "two", "three"], dtype=h5py.string_dtype("utf-8"))
    g.attrs["vlen_scalar"] = "utf8 \u00e9"
    g.attrs["ints"] = np.array([1, 2, 3], "int32")
    g.attrs["float"] = np.float64(0.5)
    g.attrs["empty_float"] = np.zeros((0,), "float64")
print(out)
