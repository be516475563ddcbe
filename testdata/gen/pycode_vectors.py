"""Write the Python 3.11 test vectors of internal/pycode: marshal.dumps of the
code objects of lambdas (run with the interpreter whose bytecode is wanted,
here Python 3.11 as tf_keras and Keras 3 run under):

    /usr/bin/python3.11 testdata/gen/pycode_vectors.py internal/pycode/testdata/py311.json

Each entry: the source, the marshal data (hex), and what the decoder must
give: the expression it decodes to, or "" for a function it must refuse.
The 3.5/3.6/3.8/3.12 vectors are built in the Go test from the opcode tables.
"""

import json
import marshal
import sys


def outer():
    s = 2.0
    return lambda x: x * s


def named(x):
    return x / 255.0 - 0.5


CASES = [
    ("lambda x: x / 255.0 - 0.5", "x / 255.0 - 0.5"),
    ("lambda x: (x / 127.5) - 1.0", "x / 127.5 - 1.0"),
    ("lambda img: img * 2 + 1", "img * 2 + 1"),
    ("lambda x: -x ** 2 + 3 * x", "-x ** 2 + 3 * x"),
    ("lambda x: (-x) ** 2", "(-x) ** 2"),
    ("lambda x: 2 ** x", "2 ** x"),
    ("lambda x: x / (255 / 2) - 1", "x / 127.5 - 1"),
    ("lambda x: 1.0 - x * 1e-05", "1.0 - x * 1e-05"),
    ("lambda x: x - (x - 0.25)", "x - (x - 0.25)"),
    ("lambda x: +x", "+x"),
    ("lambda x: tf.image.resize(x, (66, 200))", ""),
    ("lambda x: x[:, 70:-25, :, :]", ""),
    ("lambda x, y: x + y", ""),
    ("lambda x: x // 2", ""),
    ("lambda x: 1.0", ""),
    ("lambda x: K.abs(x)", ""),
    ("lambda x: x * True", ""),
    ("lambda x, s=2.0: x * s", ""),
    ("outer()", ""),
    ("named", "x / 255.0 - 0.5"),
]

out = []
for src, want in CASES:
    f = eval(src)
    out.append({"source": src, "marshal": marshal.dumps(f.__code__).hex(), "want": want,
                "python": "%d.%d" % sys.version_info[:2]})
with open(sys.argv[1], "w") as fh:
    json.dump(out, fh, indent=1)
    fh.write("\n")
