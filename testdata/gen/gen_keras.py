"""Generate the Keras half of the corpus with the real frameworks.

For every case of keras_cases.py it writes, under OUT/keras/<case>/:

  model_k2.h5          the model saved by tf_keras (Keras 2 HDF5 format)
  model.keras          the same model and weights built and saved by Keras 3
  model_k3.h5          the Keras 3 model in Keras 3's legacy HDF5 format
  model_k2.weights.h5 + model_k2.json, model_k3.weights.h5 + model_k3.json
                       weights-only files with model.to_json() (composed blocks)
  expected.npz         the seeded inputs and the outputs tf_keras computed
  expected_k3.npz      written only when Keras 3 computes something else
                       (for example hard_sigmoid's definition changed)
  tf_float32.tflite    the real TFLiteConverter's conversion of the tf_keras model
  tf_float16/dynamic/int8.tflite   quantized conversions (composed blocks only)
  case.json            what the case is and which file goes with which outputs

Usage: python gen_keras.py OUT_DIR   (see regen.sh)
"""

import json
import os
import sys

os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["PYTHONHASHSEED"] = "0"
os.environ["TF_DETERMINISTIC_OPS"] = "1"

import warnings  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402
import keras  # noqa: E402

from common import case_dir, input_array, normalize_zip, rng_for, write_json, write_npz  # noqa: E402
from keras_cases import CASES  # noqa: E402

tf.get_logger().setLevel("ERROR")
warnings.filterwarnings("ignore")
tf.config.threading.set_inter_op_parallelism_threads(1)
tf.config.threading.set_intra_op_parallelism_threads(1)


def randomize(model, rng):
    """Replace every weight by seeded random values; BatchNorm gets statistics that are not the identity."""
    for layer in model.layers:
        ws = layer.weights
        if not ws:
            continue
        vals = []
        for w in ws:
            n = w.name.split("/")[-1].split(":")[0]
            shape = tuple(w.shape)
            if "variance" in n:
                v = rng.uniform(0.4, 1.6, shape)
            elif "gamma" in n:
                v = rng.uniform(0.6, 1.4, shape)
            elif "mean" in n or "beta" in n or "bias" in n:
                v = rng.normal(0, 0.2, shape)
            elif "alpha" in n:
                v = rng.uniform(0.05, 0.4, shape)
            elif "embeddings" in n:
                v = rng.normal(0, 1.0, shape)
            else:
                fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
                v = rng.normal(0, 1.0 / np.sqrt(max(fan_in, 1)), shape)
            vals.append(v.astype(np.float32))
        layer.set_weights(vals)


def build(K, case):
    K.backend.clear_session()
    L = K.layers
    ins = [L.Input(shape=s, dtype=d, name=f"in_{i}") for i, (s, d) in enumerate(case.inputs)]
    outs = case.build(L, ins)
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    return K.Model(ins, list(outs), name=case.name)


def as_list(y):
    return [np.asarray(a) for a in (y if isinstance(y, (list, tuple)) else [y])]


def renumber_json(text):
    """A Keras 3 config with its shared_object_id values (memory addresses) renumbered."""
    return strip_date("config.json", text.encode()).decode()


def strip_date(name, data):
    if name == "metadata.json":
        meta = json.loads(data)
        meta.pop("date_saved", None)
        return json.dumps(meta, sort_keys=True).encode()
    if name == "config.json":
        # shared_object_id is id(obj), a memory address: renumber in order of appearance.
        ids = {}

        def renumber(o):
            if isinstance(o, dict):
                for k, v in o.items():
                    if k == "shared_object_id":
                        o[k] = ids.setdefault(v, len(ids) + 1)
                    else:
                        renumber(v)
            elif isinstance(o, list):
                for v in o:
                    renumber(v)

        cfg = json.loads(data)
        renumber(cfg)
        return json.dumps(cfg).encode()
    return data


def convert(model, kind, rep):
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if kind == "float16":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.target_spec.supported_types = [tf.float16]
    elif kind == "dynamic":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    elif kind == "int8":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([r] for r in rep)
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def gen_case(root, case, only_tflite=False):
    d = case_dir(root, "keras", case.name)
    rng = rng_for("keras/" + case.name)
    rec = {"name": case.name, "framework": "keras", "layers": case.layers, "config": case.config,
           "models": [], "tflite": [], "skipped": {}}
    try:
        m2 = build(tf_keras, case)
    except Exception as e:  # noqa: BLE001  (a layer or activation tf_keras does not have)
        m2 = None
        rec["skipped"]["tf-keras-h5"] = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
    primary = m2 if m2 is not None else build(keras, case)
    randomize(primary, rng)
    batch = 2
    xs = [input_array(rng, (batch,) + tuple(s), dt, case.lo, case.hi) for s, dt in case.inputs]
    y2 = as_list(primary(xs if len(xs) > 1 else xs[0], training=False))
    in_names = [f"in_{i}" for i in range(len(xs))]
    out_names = list(primary.output_names)
    rec["inputs"] = [{"name": n, "shape": list(x.shape), "dtype": str(x.dtype)} for n, x in zip(in_names, xs)]
    rec["outputs"] = [{"name": n, "shape": list(y.shape)} for n, y in zip(out_names, y2)]
    arrays = {n: x for n, x in zip(in_names, xs)}
    arrays.update({n: y.astype(np.float32) for n, y in zip(out_names, y2)})
    write_npz(os.path.join(d, "expected.npz"), arrays)
    if m2 is not None:
        m2.save(os.path.join(d, "model_k2.h5"))
        rec["models"].append({"format": "tf-keras-h5", "file": "model_k2.h5", "expected": "expected.npz"})
        if case.name.startswith("block_"):
            # weights-only .h5 (save_weights) with the model.to_json() file
            m2.save_weights(os.path.join(d, "model_k2.weights.h5"))
            with open(os.path.join(d, "model_k2.json"), "w") as f:
                f.write(m2.to_json())
            rec["models"].append({"format": "tf-keras-weights-h5", "file": "model_k2.weights.h5", "config": "model_k2.json",
                                  "expected": "expected.npz"})

    if case.k3:
        try:
            m3 = build(keras, case)
            m3.set_weights(primary.get_weights())
            y3 = as_list(m3(xs if len(xs) > 1 else xs[0], training=False))
            exp3 = "expected.npz"
            if any(a.shape != b.shape or not np.allclose(a, b, rtol=1e-5, atol=1e-5) for a, b in zip(y2, y3)):
                exp3 = "expected_k3.npz"
                a3 = {n: x for n, x in zip(in_names, xs)}
                a3.update({n: y.astype(np.float32) for n, y in zip(out_names, y3)})
                write_npz(os.path.join(d, exp3), a3)
            p = os.path.join(d, "model.keras")
            m3.save(p)
            normalize_zip(p, strip_date)
            rec["models"].append({"format": "keras3", "file": "model.keras", "expected": exp3})
            if case.name.startswith("block_"):
                m3.save_weights(os.path.join(d, "model_k3.weights.h5"))
                with open(os.path.join(d, "model_k3.json"), "w") as f:
                    f.write(renumber_json(m3.to_json()))
                rec["models"].append({"format": "keras3-weights-h5", "file": "model_k3.weights.h5", "config": "model_k3.json",
                                      "expected": exp3})
            try:
                m3.save(os.path.join(d, "model_k3.h5"))
                rec["models"].append({"format": "keras3-h5", "file": "model_k3.h5", "expected": exp3})
            except Exception as e:  # noqa: BLE001
                rec["skipped"]["keras3-h5"] = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
        except Exception as e:  # noqa: BLE001
            rec["skipped"]["keras3"] = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"

    kinds = ["float32"] + (["float16", "dynamic", "int8"] if case.quant else [])
    if m2 is None:
        kinds = []  # the real converter is run on the tf_keras model only
    rep = [[input_array(rng, (1,) + tuple(s), dt, case.lo, case.hi) for s, dt in case.inputs][0] for _ in range(16)]
    for kind in kinds:
        try:
            b = convert(m2, kind, rep)
            f = f"tf_{kind}.tflite"
            with open(os.path.join(d, f), "wb") as fh:
                fh.write(b)
            rec["tflite"].append({"file": f, "precision": kind, "converter": f"tensorflow {tf.__version__}", "expected": "expected.npz"})
        except Exception as e:  # noqa: BLE001
            rec["skipped"][f"tflite-{kind}"] = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
    rec["versions"] = {"tensorflow": tf.__version__, "tf_keras": tf_keras.__version__, "keras": keras.__version__}
    write_json(os.path.join(d, "case.json"), rec)
    return rec


def main():
    root = sys.argv[1]
    args = sys.argv[2:]
    shard, nshards = 0, 1
    if args and args[0].startswith("--shard="):
        shard, nshards = map(int, args[0][len("--shard="):].split("/"))
        args = args[1:]
    only = set(args)
    for i, case in enumerate(CASES):
        if only and case.name not in only:
            continue
        if i % nshards != shard:
            continue
        tf.keras.utils.set_random_seed(0)
        keras.utils.set_random_seed(0)
        rec = gen_case(root, case)
        print(f"keras/{case.name}: {len(rec['models'])} models, {len(rec['tflite'])} tflite, skipped {sorted(rec['skipped'])}", flush=True)


if __name__ == "__main__":
    main()
