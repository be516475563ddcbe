"""Write the out-of-tree "zoo": real keras.applications architectures with seeded weights.

The zoo is too big to commit (InceptionV3, ResNet50 and ConvNeXtTiny are
80-110 MB a file); the Go test that reads it is skipped unless EDGEVAL_ZOO
names the directory. Nothing is downloaded: every application is built with
weights=None, classes=10, a small input, and given seeded weights (He-normal
kernels, random biases and affine terms; BatchNorm moving statistics measured
on the inputs layer by layer, then perturbed - gen_keras.calibrate_bn).

Layout (OUT defaults to /tmp/edgeval-zoo):

  OUT/manifest.json             every model: files, sizes, parameters, input range, measured drifts
  OUT/README.md                 the same in words
  OUT/keras/<model>/case.json   a corpus case (package corpus reads it: corpus.Load(OUT))
  OUT/keras/<model>/inputs.npy          float32 [4, S, S, 3], already preprocessed for the model
  OUT/keras/<model>/model_k2.h5         tf_keras model.save (HDF5)
  OUT/keras/<model>/expected.npz        in_0 (the inputs) and the tf_keras outputs under the output name
  OUT/keras/<model>/expected.npy        the tf_keras outputs, float32 [4, 10]
  OUT/keras/<model>/model.keras         Keras 3 model.save (same weights)
  OUT/keras/<model>/expected_k3.npz     in_0 and the Keras 3 outputs
  OUT/keras/<model>/expected_k3.npy     the Keras 3 outputs
  OUT/keras/<model>/expected_f64.npy    the same model evaluated by Keras 3 in float64 (float64 [4, 10]; by tf_keras for
      RegNet and ResNetRS, which Keras 3 does not have: they have no model.keras, expected_k3.* nor k3_litert.tflite)
  OUT/keras/<model>/expected64.npy     tf_keras's model in float64 with the scalar parameters the float32 model rounds
      (epsilons, Rescaling scale/offset, Normalization's sqrt(variance), MobileNetV3's 1/6) rounded to float32: the
      .h5's float32 model evaluated exactly, which reference/ref64 must match to ~1e-9 of range (internal/zoo64,
      corpus.TestZooFloat64; expected_f64.npy differs from it by up to 1e-6 of range through these roundings)
  OUT/keras/<model>/expected64_k3.npy  the same by Keras 3, for model.keras (--f64-only adds both to a zoo made earlier)
  OUT/keras/<model>/tf_float32.tflite   tf.lite.TFLiteConverter.from_keras_model(tf_keras model)
  OUT/keras/<model>/k3_litert.tflite    Keras 3 model.export(..., format="litert")
  OUT/keras/inception_v3/perturbed_bn_eps/   the tf_keras .h5 with one BatchNormalization epsilon changed:
      model_k2.h5, expected.npz (that file's own tf_keras outputs), case.json, perturbed.json
      (validated against ../expected.npz it must FAIL; against its own expected.npz it must pass)

Usage: /tmp/edgeval-gen/bin/python testdata/gen/zoo.py [OUT] [--only=inception_v3,...] [--f64-only]
"""

import importlib
import json
import os
import shutil
import sys
import time

import gen_keras  # noqa: F401  (sets the TF environment and threads first)
from gen_keras import calibrate_bn, max_rel, strip_date  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402
import keras  # noqa: E402

from common import normalize_zip, rng_for, write_json, write_npz  # noqa: E402

SIZE = 96
N_SAMPLES = 4
N_CALIB = 8

# name, application class, applications submodule (for preprocess_input), extra arguments
MODELS = [
    ("mobilenet_v3_small", "MobileNetV3Small", "mobilenet_v3", {}),
    ("inception_v3", "InceptionV3", "inception_v3", {}),
    ("mobilenet_v2", "MobileNetV2", "mobilenet_v2", {}),
    ("resnet50", "ResNet50", "resnet", {}),
    ("efficientnet_b0", "EfficientNetB0", "efficientnet", {}),
    ("convnext_tiny", "ConvNeXtTiny", "convnext", {}),
    ("efficientnet_v2_b0", "EfficientNetV2B0", "efficientnet_v2", {}),
    # RegNet and ResNetRS exist in tf_keras only (Keras 3.15 has no such applications): .h5 and the TF .tflite only
    ("regnet_y002", "RegNetY002", "regnet", {}),
    ("resnet_rs50", "ResNetRS50", "resnet_rs", {}),
]

# ImageNet statistics for an un-adapted Normalization layer (EfficientNet's, on [0,1] pixels)
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_VAR = [0.229 ** 2, 0.224 ** 2, 0.225 ** 2]


def images(rng, n, size):
    """Smooth synthetic photographs in [0, 255]: bilinear-upsampled 5x5 colour fields, a gradient, fine noise."""
    low = rng.uniform(0, 255, (n, 5, 5, 3))
    t = np.linspace(0, 4, size)
    i0 = np.minimum(np.floor(t).astype(int), 3)
    f = (t - i0)[None, :, None, None]
    rows = low[:, i0] * (1 - f) + low[:, i0 + 1] * f  # [n, size, 5, 3]
    f = (t - i0)[None, None, :, None]
    img = rows[:, :, i0] * (1 - f) + rows[:, :, i0 + 1] * f  # [n, size, size, 3]
    ramp = np.linspace(-1, 1, size)
    img += rng.uniform(-30, 30, (n, 1, 1, 3)) * ramp[None, :, None, None] + rng.normal(0, 8, img.shape)
    return np.clip(img, 0, 255).astype(np.float32)


def randomize_he(model, rng):
    """Seeded weights for a whole application: He-normal kernels (the fan-in of each kernel kind), small biases,
    gamma in [0.6, 1.4], beta ~ N(0, 0.2), LayerScale in [0.1, 0.5]; BatchNorm statistics 0/1 (calibrated next)."""
    for layer in model.layers:
        if not layer.weights:
            continue
        cls = type(layer).__name__
        vals = []
        for w in layer.weights:
            n = w.name.split("/")[-1].split(":")[0]
            shape = tuple(w.shape)
            if cls == "Normalization":
                v = {"mean": np.array(IMAGENET_MEAN), "variance": np.array(IMAGENET_VAR)}.get(n)
                if v is None:  # the adapt count
                    v = np.asarray(w.numpy())
                v = np.broadcast_to(v, shape)
            elif n == "moving_mean":
                v = np.zeros(shape)
            elif n == "moving_variance":
                v = np.ones(shape)
            elif cls == "LayerScale" or "layer_scale" in n:
                v = rng.uniform(0.1, 0.5, shape)
            elif n == "gamma":
                v = rng.uniform(0.6, 1.4, shape)
            elif n == "beta":
                v = rng.normal(0, 0.2, shape)
            elif n == "bias":
                v = rng.normal(0, 0.05, shape)
            elif n == "depthwise_kernel":
                v = rng.normal(0, np.sqrt(2.0 / (shape[0] * shape[1])), shape)
            elif n in ("kernel", "pointwise_kernel"):
                v = rng.normal(0, np.sqrt(2.0 / int(np.prod(shape[:-1]))), shape)
            else:
                raise ValueError(f"zoo: {model.name}: layer {layer.name} ({cls}): no rule for weight {n!r}")
            vals.append(np.asarray(v, np.float32))
        layer.set_weights(vals)
        finalize(layer)


def finalize(layer):
    """tf_keras's Normalization computes from tensors made by finalize_state(), not from its weights: a model whose
    weights were set in memory must refresh them, or it computes something else than the file it saves."""
    if type(layer).__name__ == "Normalization" and hasattr(layer, "finalize_state"):
        layer.finalize_state()


def copy_weights(src, dst):
    """Copy weights between the tf_keras and Keras 3 builds of one application (same layers in the same order)."""
    a = [(type(l).__name__, [tuple(w.shape) for w in l.weights]) for l in src.layers if l.weights]
    b = [(type(l).__name__, [tuple(w.shape) for w in l.weights]) for l in dst.layers if l.weights]
    if [s for _, s in a] != [s for _, s in b]:
        raise ValueError(f"zoo: {src.name}: the two builds have different weights:\n{a}\n{b}")
    dst.set_weights(src.get_weights())
    for layer in dst.layers:
        finalize(layer)


def app(K, cls, floatx="float32"):
    prev = K.backend.floatx()
    K.backend.set_floatx(floatx)
    try:
        K.backend.clear_session()
        return getattr(K.applications, cls)(input_shape=(SIZE, SIZE, 3), weights=None, classes=10)
    finally:
        K.backend.set_floatx(prev)


# The layer attributes holding a float the float32 model computes with as a float32 (Keras casts them to the
# compute dtype): a float64 model given these rounded values computes the float32 model's function exactly.
FLOAT32_SCALARS = ("epsilon", "scale", "offset")


def round_scalars(model):
    """Round every layer's float scalar parameters (FLOAT32_SCALARS) to float32 values, a Normalization's mean to
    float32 and its standard deviation to the float32 sqrt the float32 model divides by (the variance becomes its
    exact square), in place."""
    for layer in model.layers:
        if type(layer).__name__ == "Normalization":
            var = np.asarray(layer.variance, np.float64)
            std32 = np.sqrt(var.astype(np.float32)).astype(np.float64)
            layer.variance = tf.constant(std32 * std32, tf.float64)
            # a mean stated in the config (ConvNeXt's, ResNetRS's) is a float32 constant of the float32 model
            layer.mean = tf.constant(np.asarray(layer.mean, np.float64).astype(np.float32).astype(np.float64), tf.float64)
        for a in FLOAT32_SCALARS:
            v = getattr(layer, a, None)
            if isinstance(v, float):
                setattr(layer, a, float(np.float32(v)))
            elif isinstance(v, (list, tuple)) and v and all(isinstance(e, float) for e in v):
                setattr(layer, a, type(v)(float(np.float32(e)) for e in v))
    return model


def float64_outputs(K, cls, weights, x):
    """The application in float64 with the given weights and float32-rounded scalars, on x widened exactly.
    MobileNetV3's hard_sigmoid multiplies by the Python scalar 1/6, which the float32 model (and the file's
    reader) takes as float32(1/6): the float64 model is built with that value."""
    mod = importlib.import_module(K.__name__ + ".src.applications.mobilenet_v3")
    orig = mod.hard_sigmoid
    sixth = float(np.float32(1.0 / 6.0))
    mod.hard_sigmoid = lambda v: mod.layers.ReLU(6.0)(v + 3.0) * sixth
    try:
        m64 = app(K, cls, "float64")
    finally:
        mod.hard_sigmoid = orig
    m64.set_weights([np.asarray(w, np.float64) for w in weights])
    for layer in m64.layers:
        finalize(layer)
    round_scalars(m64)
    return run(m64, x.astype(np.float64))


def f64_only(root, name, cls):
    """Adds expected64.npy (tf_keras, for model_k2.h5) and expected64_k3.npy (Keras 3, for model.keras) to a
    model of a zoo made earlier, from its saved files."""
    d = os.path.join(root, "keras", name)
    x = np.load(os.path.join(d, "inputs.npy"))
    y32 = np.load(os.path.join(d, "expected.npy"))
    files = [("expected64.npy", tf_keras, "model_k2.h5")]
    if os.path.exists(os.path.join(d, "model.keras")):
        files.append(("expected64_k3.npy", keras, "model.keras"))
    for out, K, f in files:
        custom = {}
        if K is tf_keras:  # tf_keras cannot reload ConvNeXt's own layers by name
            cnx = importlib.import_module("tf_keras.src.applications.convnext")
            custom = {"LayerScale": cnx.LayerScale, "StochasticDepth": cnx.StochasticDepth}
        m = K.models.load_model(os.path.join(d, f), compile=False, custom_objects=custom)
        y64 = float64_outputs(K, cls, m.get_weights(), x)
        np.save(os.path.join(d, out), y64)
        print(f"zoo/{name}: {out}; tf_keras float32 vs it {np.abs(y32 - y64).max() / np.ptp(y64):.3g} of range", flush=True)


def run(m, x):
    return np.asarray(m(x, training=False))


def tflite_outputs(model_bytes, x):
    """Run a .tflite in TF's own interpreter sample by sample (None when it cannot)."""
    try:
        it = tf.lite.Interpreter(model_content=model_bytes, num_threads=1)
        outs = []
        for s in range(len(x)):
            inp = it.get_input_details()[0]
            it.resize_tensor_input(inp["index"], [1] + list(x.shape[1:]))
            it.allocate_tensors()
            it.set_tensor(inp["index"], x[s:s + 1])
            it.invoke()
            outs.append(it.get_tensor(it.get_output_details()[0]["index"])[0])
        return np.stack(outs)
    except Exception as e:  # noqa: BLE001
        print(f"  tflite interpreter: {type(e).__name__}: {e}", flush=True)
        return None


def perturb_bn_epsilon(src, dst, layer_name, eps):
    """Copy an HDF5 model file, changing one BatchNormalization's epsilon in its model_config."""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        raw = f.attrs["model_config"]
        cfg = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        hit = [l for l in cfg["config"]["layers"] if l["config"]["name"] == layer_name]
        if len(hit) != 1 or hit[0]["class_name"] != "BatchNormalization":
            raise ValueError(f"zoo: {src}: no BatchNormalization {layer_name!r}")
        old = hit[0]["config"]["epsilon"]
        hit[0]["config"]["epsilon"] = eps
        f.attrs["model_config"] = json.dumps(cfg).encode()
    return old


def reload_check(load, x, y):
    """max_rel of the saved file's outputs against the in-memory model's, or the framework's load error."""
    try:
        return max_rel(run(load(), x), y)
    except Exception as e:  # noqa: BLE001
        return f"load failed: {type(e).__name__}: {str(e).splitlines()[0][:200]}"


def size_of(d, f):
    return os.path.getsize(os.path.join(d, f))


def gen_model(root, name, cls, module, extra):
    t0 = time.time()
    d = os.path.join(root, "keras", name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    rng = rng_for("zoo/" + name)
    pix = images(rng, N_SAMPLES + N_CALIB, SIZE)
    has_k3 = hasattr(keras.applications, cls)
    pre = getattr(keras.applications if has_k3 else tf_keras.applications, module).preprocess_input
    xall = np.asarray(pre(pix.copy()), np.float32)
    x, xcal = xall[:N_SAMPLES], xall
    rec = {"name": name, "application": cls, "input_size": [SIZE, SIZE, 3], "classes": 10, "files": {}, "skipped": {},
           "preprocess": f"keras.applications.{module}.preprocess_input on [0,255] pixels",
           "input_range": [float(x.min()), float(x.max())]}

    tf_keras.utils.set_random_seed(0)
    keras.utils.set_random_seed(0)
    m2 = app(tf_keras, cls)
    randomize_he(m2, rng)
    calibrate_bn(m2, tf_keras, [xcal], rng)
    y2 = run(m2, x)
    out_name = m2.output_names[0]
    rec["params"] = int(m2.count_params())
    rec["layers"] = len(m2.layers)
    rec["output_name"] = out_name
    np.save(os.path.join(d, "inputs.npy"), x)
    m2.save(os.path.join(d, "model_k2.h5"))
    write_npz(os.path.join(d, "expected.npz"), {"in_0": x, out_name: y2.astype(np.float32)})
    np.save(os.path.join(d, "expected.npy"), y2.astype(np.float32))
    # the file must compute what the in-memory model computed
    rec["reload_k2_vs_memory"] = reload_check(lambda: tf_keras.models.load_model(os.path.join(d, "model_k2.h5"), compile=False), x, y2)
    case = {"name": name, "framework": "keras", "layers": [cls], "config": f"keras.applications.{cls}(weights=None, classes=10) at {SIZE}x{SIZE}",
            "inputs": [{"name": "in_0", "shape": list(x.shape), "dtype": "float32"}],
            "outputs": [{"name": out_name, "shape": list(y2.shape)}],
            "models": [{"format": "tf-keras-h5", "file": "model_k2.h5", "expected": "expected.npz"}],
            "tflite": [], "skipped": {}}

    b = tf.lite.TFLiteConverter.from_keras_model(m2).convert()
    with open(os.path.join(d, "tf_float32.tflite"), "wb") as fh:
        fh.write(b)
    case["tflite"].append({"file": "tf_float32.tflite", "precision": "float32", "converter": f"tensorflow {tf.__version__}",
                           "expected": "expected.npz"})
    drift = {}
    yt = tflite_outputs(b, x)
    if yt is not None:
        drift["tf_tflite_vs_tf_keras"] = max_rel(yt, y2)

    if not has_k3:
        rec["skipped"]["model.keras"] = f"keras {keras.__version__} has no keras.applications.{cls}"
        case["skipped"]["keras3"] = rec["skipped"]["model.keras"]
        m64 = app(tf_keras, cls, "float64")
        m64.set_weights([np.asarray(w, np.float64) for w in m2.get_weights()])
        for layer in m64.layers:
            finalize(layer)
        y64 = run(m64, x.astype(np.float64))
        np.save(os.path.join(d, "expected_f64.npy"), y64)
        drift["tf_keras_f32_vs_f64"] = max_rel(y2, y64)
        rec["output_range"] = float(np.abs(y64).max())
        return finish(d, rec, case, drift, name, m2, x, y2, out_name, t0)
    m3 = app(keras, cls)
    copy_weights(m2, m3)
    y3 = run(m3, x)
    p = os.path.join(d, "model.keras")
    m3.save(p)
    normalize_zip(p, strip_date)
    rec["reload_k3_vs_memory"] = reload_check(lambda: keras.models.load_model(p, compile=False), x, y3)
    for k in ("reload_k2_vs_memory", "reload_k3_vs_memory"):
        if isinstance(rec[k], float) and rec[k] > 1e-6:
            raise ValueError(f"zoo: {name}: the saved file computes something else than the model in memory ({k} {rec[k]:.3g})")
    write_npz(os.path.join(d, "expected_k3.npz"), {"in_0": x, out_name: y3.astype(np.float32)})
    np.save(os.path.join(d, "expected_k3.npy"), y3.astype(np.float32))
    case["models"].append({"format": "keras3", "file": "model.keras", "expected": "expected_k3.npz"})
    try:
        m3.export(os.path.join(d, "k3_litert.tflite"), format="litert", verbose=False)
        with open(os.path.join(d, "k3_litert.tflite"), "rb") as fh:
            yk = tflite_outputs(fh.read(), x)
        if yk is not None:
            drift["k3_litert_vs_keras3"] = max_rel(yk, y3)
        rec["files"]["k3_litert.tflite"] = "Keras 3 model.export(format='litert')"
    except Exception as e:  # noqa: BLE001
        rec["skipped"]["k3_litert.tflite"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"

    m64 = app(keras, cls, "float64")
    m64.set_weights([np.asarray(w, np.float64) for w in m3.get_weights()])
    for layer in m64.layers:
        finalize(layer)
    y64 = run(m64, x.astype(np.float64))
    np.save(os.path.join(d, "expected_f64.npy"), y64)
    drift["tf_keras_f32_vs_f64"] = max_rel(y2, y64)
    drift["keras3_f32_vs_f64"] = max_rel(y3, y64)
    drift["tf_keras_vs_keras3"] = max_rel(y3, y2)
    rec["output_range"] = float(np.abs(y64).max())
    return finish(d, rec, case, drift, name, m2, x, y2, out_name, t0)


def finish(d, rec, case, drift, name, m2, x, y2, out_name, t0):
    """Write case.json and the record's files (the float64 drifts only where Keras 3 has the application)."""
    f64_only(os.path.dirname(os.path.dirname(d)), name, case["layers"][0])
    drift["measure"] = "max |a - b| / max |b| over the outputs (b the second named), on inputs.npy"
    rec["drift"] = drift
    rec.setdefault("output_range", float(np.abs(y2).max()))
    case["f64_drift"] = drift
    case["notes"] = "zoo: a real keras.applications architecture with seeded weights (testdata/gen/zoo.py)"
    case["versions"] = {"tensorflow": tf.__version__, "tf_keras": tf_keras.__version__, "keras": keras.__version__}
    write_json(os.path.join(d, "case.json"), case)

    if name == "inception_v3":
        rec["perturbed"] = gen_twin(d, m2, x, y2, out_name)
    rec["files"].update({f: size_of(d, f) for f in sorted(os.listdir(d)) if os.path.isfile(os.path.join(d, f))})
    rec["seconds"] = round(time.time() - t0, 1)
    print(f"zoo/{name}: {rec['params']} params, drift {json.dumps({k: v for k, v in drift.items() if k != 'measure'})}, "
          f"{rec['seconds']} s", flush=True)
    return rec


def gen_twin(d, m2, x, y2, out_name):
    """The perturbed twin: one early BatchNormalization's epsilon 1e-3 -> 1e-1 in the .h5's config."""
    td = os.path.join(d, "perturbed_bn_eps")
    os.makedirs(td)
    bns = [l for l in m2.layers if type(l).__name__ == "BatchNormalization"]
    target = bns[1]  # the second conv's BN (the stem)
    eps = 1e-1
    old = perturb_bn_epsilon(os.path.join(d, "model_k2.h5"), os.path.join(td, "model_k2.h5"), target.name, eps)
    mt = tf_keras.models.load_model(os.path.join(td, "model_k2.h5"), compile=False)
    got = [l for l in mt.layers if l.name == target.name][0]
    assert abs(got.epsilon - eps) < 1e-12, got.epsilon
    yt = run(mt, x)
    write_npz(os.path.join(td, "expected.npz"), {"in_0": x, out_name: yt.astype(np.float32)})
    effect = max_rel(yt, y2)
    info = {"file": "model_k2.h5", "base": "../model_k2.h5", "layer": target.name, "field": "epsilon", "from": old, "to": eps,
            "moving_variance_range": [float(np.min(target.moving_variance)), float(np.max(target.moving_variance))],
            "framework_output_change": effect,
            "measure": "max |perturbed - original| / max |original| of tf_keras's outputs on ../inputs.npy",
            "must_fail_against": "../expected.npz", "own_expected": "expected.npz"}
    write_json(os.path.join(td, "perturbed.json"), info)
    case = {"name": "inception_v3_perturbed_bn_eps", "framework": "keras", "layers": ["InceptionV3"],
            "config": f"InceptionV3 with {target.name}.epsilon {old} -> {eps} (its own outputs in expected.npz)",
            "inputs": [{"name": "in_0", "shape": list(x.shape), "dtype": "float32"}],
            "outputs": [{"name": out_name, "shape": list(yt.shape)}],
            "models": [{"format": "tf-keras-h5", "file": "model_k2.h5", "expected": "expected.npz"}],
            "tflite": [], "skipped": {}, "notes": f"validated against ../expected.npz this must FAIL (change {effect:.3g} of range)"}
    write_json(os.path.join(td, "case.json"), case)
    print(f"zoo/inception_v3/perturbed_bn_eps: {target.name} epsilon {old} -> {eps}: output change {effect:.3g} of range", flush=True)
    return info


README = """# edgeval zoo (generated by testdata/gen/zoo.py; do not edit)

Real keras.applications architectures (weights=None, classes=10, {size}x{size} inputs) with seeded weights:
He-normal kernels, random biases/affine terms, BatchNorm statistics calibrated on the inputs. Made with {versions}.
Each `keras/<model>/` is a corpus case (`case.json`); see testdata/gen/zoo.py's docstring for the files.

| model | params | layers | input range | output range | tf_keras f32 vs f64 | Keras 3 f32 vs f64 | tf_keras vs Keras 3 | TF .tflite vs tf_keras | Keras 3 .tflite vs Keras 3 | files (MB) |
|---|---|---|---|---|---|---|---|---|---|---|
{rows}

Drifts are max |a - b| / max |b| over the 4 samples' outputs.
{twin}
"""


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    only, f64 = set(), False
    for a in sys.argv[1:]:
        if a == "--f64-only":
            f64 = True
        elif a.startswith("--only="):
            only.update(n for n in a[len("--only="):].split(",") if n)
        elif a.startswith("--"):
            sys.exit(f"zoo.py: unknown option {a}")
    root = args[0] if args else "/tmp/edgeval-zoo"
    names = {m[0] for m in MODELS}
    if only - names:
        sys.exit(f"zoo.py: no such model: {', '.join(sorted(only - names))} (have {', '.join(sorted(names))})")
    if f64:
        for name, cls, _, _ in MODELS:
            if not only or name in only:
                f64_only(root, name, cls)
        return
    os.makedirs(root, exist_ok=True)
    mpath = os.path.join(root, "manifest.json")
    manifest = {"models": {}}
    if os.path.exists(mpath):
        with open(mpath) as f:
            manifest = json.load(f)
    for name, cls, module, extra in MODELS:
        if only and name not in only:
            continue
        try:
            manifest["models"][name] = gen_model(root, name, cls, module, extra)
        except Exception as e:  # noqa: BLE001
            manifest["models"][name] = {"name": name, "application": cls, "error": f"{type(e).__name__}: {str(e)[:300]}"}
            print(f"zoo/{name}: FAILED {type(e).__name__}: {e}", flush=True)
    manifest["versions"] = {"tensorflow": tf.__version__, "tf_keras": tf_keras.__version__, "keras": keras.__version__}
    manifest["layout"] = __doc__
    write_json(mpath, manifest)
    rows, twin = [], ""
    fmt = lambda v: "–" if v is None else f"{v:.2g}"  # noqa: E731
    for name, rec in sorted(manifest["models"].items()):
        if "error" in rec:
            rows.append(f"| {name} | failed: {rec['error']} |||||||||| ")
            continue
        dr = rec["drift"]
        mb = " ".join(f"{f} {v / 1e6:.1f}" for f, v in rec["files"].items() if isinstance(v, int) and v > 100000)
        rows.append(f"| {name} ({rec['application']}) | {rec['params']} | {rec['layers']} | {rec['input_range'][0]:.3g}..{rec['input_range'][1]:.3g} | "
                    f"{rec['output_range']:.3g} | {fmt(dr.get('tf_keras_f32_vs_f64'))} | {fmt(dr.get('keras3_f32_vs_f64'))} | "
                    f"{fmt(dr.get('tf_keras_vs_keras3'))} | {fmt(dr.get('tf_tflite_vs_tf_keras'))} | {fmt(dr.get('k3_litert_vs_keras3'))} | {mb} |")
        if "perturbed" in rec:
            p = rec["perturbed"]
            twin = (f"\nPerturbed twin `keras/{name}/perturbed_bn_eps/model_k2.h5`: {p['layer']}.epsilon {p['from']} -> {p['to']} "
                    f"in the .h5's model_config; tf_keras's outputs change by {p['framework_output_change']:.3g} of the range. "
                    "Validated against `../expected.npz` it must fail; against its own `expected.npz` it must pass.\n")
    vers = ", ".join(f"{k} {v}" for k, v in sorted(manifest["versions"].items()))
    with open(os.path.join(root, "README.md"), "w") as f:
        f.write(README.format(size=SIZE, versions=vers, rows="\n".join(rows), twin=twin))


if __name__ == "__main__":
    main()
