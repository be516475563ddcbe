"""Anchor timings of the real tools, to put next to edgeval's (BenchmarkAnchors in package corpus).

For vww_96.h5 and pretrainedResnet.h5 (../shared/fixtures/keras/mlcommons-tiny/):
  - the real TFLite converter: tf_keras load_model time, and TFLiteConverter.from_keras_model(...).convert() time;
  - native LiteRT (ai-edge-litert's Interpreter, 1 thread, CPU): median invoke time of
      the upstream .tflite shipped beside the .h5, the .tflite the converter just made, and
      our .tflite (written by `go run ./cmd/validate convert MODEL -o OUT`) when given.

Usage (venv of requirements.txt; run from the repository root):
  go run ./cmd/validate convert ../shared/fixtures/keras/mlcommons-tiny/vww_96.h5 -o /tmp/vww_96_ours.tflite
  go run ./cmd/validate convert ../shared/fixtures/keras/mlcommons-tiny/pretrainedResnet.h5 -o /tmp/resnet_ours.tflite
  /tmp/edgeval-gen/bin/python testdata/gen/anchors.py --ours vww_96=/tmp/vww_96_ours.tflite \\
      --ours pretrainedResnet=/tmp/resnet_ours.tflite
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "fixtures", "keras", "mlcommons-tiny")
MODELS = {"vww_96": ("vww_96.h5", "vww_96_float.tflite"), "pretrainedResnet": ("pretrainedResnet.h5", "pretrainedResnet.tflite")}


def invoke_ms(model_bytes, runs):
    it = Interpreter(model_content=model_bytes, num_threads=1)
    it.allocate_tensors()
    d = it.get_input_details()[0]
    x = np.random.default_rng(1).uniform(0, 1, d["shape"]).astype(d["dtype"])
    it.set_tensor(d["index"], x)
    for _ in range(10):
        it.invoke()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        it.invoke()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts), min(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", action="append", default=[], help="NAME=PATH of our .tflite for that model")
    ap.add_argument("--repeat", type=int, default=3, help="conversions per model (the median is reported)")
    ap.add_argument("--runs", type=int, default=200, help="timed invokes per model")
    a = ap.parse_args()
    ours = dict(s.split("=", 1) for s in a.ours)
    print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}, load average {os.getloadavg()}")
    for name, (h5, upstream) in MODELS.items():
        loads, convs = [], []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            m = tf_keras.models.load_model(os.path.join(FIX, h5), compile=False)
            t1 = time.perf_counter()
            b = tf.lite.TFLiteConverter.from_keras_model(m).convert()
            t2 = time.perf_counter()
            loads.append((t1 - t0) * 1e3)
            convs.append((t2 - t1) * 1e3)
        print(f"{name}: tf_keras load {statistics.median(loads):.0f} ms, TFLiteConverter convert {statistics.median(convs):.0f} ms "
              f"(median of {a.repeat}; {len(b)} bytes)")
        rows = [("upstream " + upstream, open(os.path.join(FIX, upstream), "rb").read()), ("converted now", b)]
        if name in ours:
            rows.append(("ours " + ours[name], open(ours[name], "rb").read()))
        for label, mb in rows:
            med, mn = invoke_ms(mb, a.runs)
            print(f"  native LiteRT invoke, {label}: median {med:.3f} ms, min {mn:.3f} ms")


if __name__ == "__main__":
    main()
