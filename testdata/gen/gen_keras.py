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

Cases with calibrate set have their BatchNorm moving statistics measured on
the inputs (layer by layer, then perturbed) instead of drawn at random, so a
deep model stays in a realistic range; cases with f64 set also record in
case.json how far the framework's float32 outputs are from a float64
evaluation of the same model ("f64_drift").

Usage:
  python gen_keras.py OUT_DIR                        every case (see regen.sh)
  python gen_keras.py OUT_DIR --only=NAME1,NAME2     only these cases (the same files the full run writes)
  python gen_keras.py OUT_DIR --shard=I/N            every N-th case from the I-th (regen.sh runs two)
  python gen_keras.py ZOO_DIR --zoo                  the out-of-tree cases of keras_cases.ZOO_CASES (too large to
                                                     commit; read with the zoo by EDGEVAL_ZOO=ZOO_DIR)
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
from keras_cases import CASES, ZOO_CASES  # noqa: E402

tf.get_logger().setLevel("ERROR")
warnings.filterwarnings("ignore")
tf.config.threading.set_inter_op_parallelism_threads(1)
tf.config.threading.set_intra_op_parallelism_threads(1)


RECURRENT = ("LSTM", "GRU", "SimpleRNN", "Bidirectional")


def is_model(layer):
    """Whether a layer is a whole model (a Sequential or Functional used as a layer)."""
    return isinstance(layer, (tf_keras.Model, keras.Model))


def sublayers(model):
    """The layers of model in order, nested models' layers in their place (depth first)."""
    for layer in model.layers:
        if is_model(layer):
            yield from sublayers(layer)
        else:
            yield layer


def randomize(model, rng):
    """Replace every weight by seeded random values; BatchNorm gets statistics that are not the identity."""
    for layer in sublayers(model):
        ws = layer.weights
        if not ws:
            continue
        vals = []
        for w in ws:
            n = w.name.split("/")[-1].split(":")[0]
            shape = tuple(w.shape)
            if n == "count":
                # Normalization's adapt count: an integer that only weights later adapt() calls
                vals.append(np.asarray(w.numpy()))
                continue
            if "variance" in n:
                v = rng.uniform(0.4, 1.6, shape)
            elif "gamma" in n:
                v = rng.uniform(0.6, 1.4, shape)
            elif "bias" in n and type(layer).__name__ in RECURRENT:
                # wide, so the forget gate's bias (and the GRU's input and
                # recurrent biases) are far from 0, from 1 and from each other
                v = rng.normal(0.3, 0.6, shape)
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
    finalize(model)


def finalize(model):
    """Normalization computes from tensors made by finalize_state(), not from its weights (tf_keras, and Keras 3 on
    the TF backend): a model whose weights were set in memory must refresh them, or it computes something else than
    the file it saves."""
    for layer in sublayers(model):
        if type(layer).__name__ == "Normalization" and hasattr(layer, "finalize_state"):
            layer.finalize_state()


def calibrate_bn(model, K, xs, rng, beta=None):
    """Set every BatchNormalization's moving statistics from the activations it sees on xs.

    Layer by layer in model order (each one sees its upstream layers already
    calibrated): moving_mean is the measured per-channel mean plus 0.1 standard
    deviation of seeded noise, moving_variance the measured variance times a
    seeded factor in [0.8, 1.25], so the statistics are realistic but never
    exactly the batch's. beta, when given, replaces the offsets by
    normal(beta, 0.2) (a negative beta gives sparse ReLU activations, as in
    trained networks). A nested model is calibrated on the activations it
    sees, after the layers before it.
    """
    seq = type(model).__name__ == "Sequential"
    h = xs  # a Sequential's layers are run one by one: the input of the next layer
    for layer in model.layers:
        if seq:
            ins = h
        elif is_model(layer) or type(layer).__name__ == "BatchNormalization":
            sub = K.Model(model.inputs, layer.input)
            ins = as_list(sub(xs if len(xs) > 1 else xs[0], training=False))
        if is_model(layer):
            calibrate_bn(layer, K, ins, rng, beta)
        elif type(layer).__name__ == "BatchNormalization":
            calibrate_one(layer, np.asarray(ins[0]).astype(np.float64), rng, beta)
        if seq:
            h = as_list(layer(h if len(h) > 1 else h[0], training=False))


def calibrate_one(layer, a, rng, beta):
    """Set one BatchNormalization's moving statistics from its input a (see calibrate_bn)."""
    axis = layer.axis if isinstance(layer.axis, int) else layer.axis[0]
    axis = axis % a.ndim
    red = tuple(i for i in range(a.ndim) if i != axis)
    mu, var = a.mean(axis=red), a.var(axis=red)
    names = [w.name.split("/")[-1].split(":")[0] for w in layer.weights]
    vals = layer.get_weights()
    for i, n in enumerate(names):
        if "moving_mean" in n:
            vals[i] = mu + 0.1 * np.sqrt(var) * rng.normal(0, 1, mu.shape)
        elif "moving_variance" in n:
            vals[i] = var * rng.uniform(0.8, 1.25, var.shape)
        elif "beta" in n and beta is not None:
            vals[i] = rng.normal(beta, 0.2, mu.shape)
    layer.set_weights([v.astype(np.float32) for v in vals])


def max_rel(a, b):
    """max |a - b| / max |b| over all outputs (b is the reference)."""
    num = max(float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)))) for x, y in zip(a, b))
    den = max(float(np.max(np.abs(np.asarray(y, np.float64)))) for y in b)
    return num / den if den > 0 else num


def eval_f64(K, case, weights, xs):
    """The case's model built by K with float64 variables and inputs, run on xs."""
    prev = K.backend.floatx()
    K.backend.set_floatx("float64")
    try:
        m = build(K, case, float_dtype="float64")
        m.set_weights([np.asarray(w, np.float64) for w in weights])
        finalize(m)
        x64 = [x.astype(np.float64) if x.dtype.kind == "f" else x for x in xs]
        return as_list(m(x64 if len(x64) > 1 else x64[0], training=False))
    finally:
        K.backend.set_floatx(prev)


def build(K, case, float_dtype=None, batch_size=None):
    K.backend.clear_session()
    if case.model is not None:
        return case.model(K)
    L = K.layers
    ins = [L.Input(shape=s, dtype=(float_dtype if float_dtype and d.startswith("float") else d), name=f"in_{i}",
                   batch_size=batch_size)
           for i, (s, d) in enumerate(case.inputs)]
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
    if case.make_inputs is not None:
        xs = case.make_inputs(rng, batch)
    else:
        xs = [input_array(rng, (batch,) + tuple(s), dt, case.lo, case.hi) for s, dt in case.inputs]
    if case.calibrate is not None:
        # the case's inputs and 6 more samples from a generator of their own
        crng = rng_for("keras/" + case.name + "/calibrate")
        cal = [np.concatenate([x, input_array(crng, (6,) + tuple(s), dt, case.lo, case.hi)])
               for x, (s, dt) in zip(xs, case.inputs)]
        calibrate_bn(primary, tf_keras if m2 is not None else keras, cal, crng, beta=case.calibrate.get("beta"))
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

    y3 = None
    if case.k3:
        try:
            m3 = build(keras, case)
            m3.set_weights(primary.get_weights())
            finalize(m3)
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
    conv_model = m2
    if kinds and case.tf_batch1:
        # RNNs: tf.TensorListReserve needs a static element shape, so the
        # converter gets a batch_size=1 copy (same weights). The expected
        # outputs stay the batch-2 ones: the Go test runs a TF file one
        # sample at a time.
        w = m2.get_weights()
        conv_model = build(tf_keras, case, batch_size=1)
        conv_model.set_weights(w)
    for kind in kinds:
        try:
            b = convert(conv_model, kind, rep)
            f = f"tf_{kind}.tflite"
            with open(os.path.join(d, f), "wb") as fh:
                fh.write(b)
            rec["tflite"].append({"file": f, "precision": kind, "converter": f"tensorflow {tf.__version__}", "expected": "expected.npz"})
        except Exception as e:  # noqa: BLE001
            rec["skipped"][f"tflite-{kind}"] = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
    if case.f64:
        # float32 drift: the framework's float32 outputs against the same model in float64
        drift = {}
        w = primary.get_weights()
        if m2 is not None:
            drift["tf_keras_f32_vs_f64"] = max_rel(y2, eval_f64(tf_keras, case, w, xs))
        if y3 is not None:
            drift["keras3_f32_vs_f64"] = max_rel(y3, eval_f64(keras, case, w, xs))
            drift["tf_keras_vs_keras3"] = max_rel(y3, y2)
        drift["measure"] = "max |float32 - float64| / max |float64| over the outputs, on the case's inputs"
        rec["f64_drift"] = drift
    if case.notes:
        rec["notes"] = case.notes
    rec["versions"] = {"tensorflow": tf.__version__, "tf_keras": tf_keras.__version__, "keras": keras.__version__}
    write_json(os.path.join(d, "case.json"), rec)
    return rec


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: gen_keras.py OUT_DIR [--zoo] [--only=NAME1,NAME2] [--shard=I/N] [NAME...]")
    root = sys.argv[1]
    shard, nshards = 0, 1
    only = set()
    cases = CASES
    for a in sys.argv[2:]:
        if a == "--zoo":
            cases = ZOO_CASES
        elif a.startswith("--shard="):
            shard, nshards = map(int, a[len("--shard="):].split("/"))
        elif a.startswith("--only="):
            only.update(n for n in a[len("--only="):].split(",") if n)
        elif a.startswith("-"):
            sys.exit(f"gen_keras.py: unknown option {a}")
        else:
            only.add(a)
    unknown = only - {c.name for c in cases}
    if unknown:
        sys.exit(f"gen_keras.py: no such case: {', '.join(sorted(unknown))}")
    for i, case in enumerate(cases):
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
