"""Generate the operation fixtures of converter/keras/testdata.

Keras 3 records `x + 3.0` as a layer entry of module keras.src.ops.numpy
(class Add, the scalar in the node's args); tf_keras records it as a
TFOpLambda (function "__operators__.add", the scalar in the kwargs element
of the inbound reference). These models are written by the real frameworks
so the Go reader is checked on the JSON they really write. Versions: keras
3.15.1 and tf_keras 2.21.0 on tensorflow-cpu 2.21.0, numpy 2.x. Run:

    TF_USE_LEGACY_KERAS=0 /tmp/edgeval-gen/bin/python testdata/gen/keras_ops_fixtures.py \
        converter/keras/testdata [--zoo /tmp/edgeval-zoo]

For every model NAME it writes NAME.keras (Keras 3) or NAME.h5 (tf_keras, or
Keras 3 for k3_*_h5: the legacy format, where operations have no module),
NAME.json (model.to_json(), for the tests that edit a real config) and
NAME.npz with input_0.. and the framework's outputs output_0... With --zoo
DIR it also writes MobileNetV3Small (96x96, 10 classes, random weights, no
classifier activation) from both frameworks into DIR (too large to commit)
as mnv3s_k3.keras, mnv3s_k2.h5 and mnv3s_k3h5.h5 (Keras 3, legacy .h5) with
their .npz, and their configs
(gzip'd) into the testdata directory as mnv3s_k3.json.gz and mnv3s_k2.json.gz.
"""

import gzip
import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ["TF_USE_LEGACY_KERAS"] = "0"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers, ops  # noqa: E402
import tf_keras  # noqa: E402

args = [a for a in sys.argv[1:] if not a.startswith("--")]
OUT = args[0] if args else "converter/keras/testdata"
ZOO = None
if "--zoo" in sys.argv:
    ZOO = sys.argv[sys.argv.index("--zoo") + 1]
    args = [a for a in args if a != ZOO]
rng = np.random.default_rng(20260613)


def randomize(model):
    """Non-trivial weights; BatchNormalization statistics included."""
    for w in model.weights:
        name = getattr(w, "path", None) or w.name
        shape = tuple(w.shape)
        if "moving_variance" in name or "variance" in name.split("/")[-1]:
            v = rng.uniform(0.5, 2.0, size=shape)
        elif "moving_mean" in name:
            v = rng.normal(0, 0.2, size=shape)
        elif "gamma" in name:
            v = rng.uniform(0.5, 1.5, size=shape)
        elif "beta" in name or "bias" in name:
            v = rng.normal(0, 0.2, size=shape)
        else:
            fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
            v = rng.normal(0, 1.0 / np.sqrt(max(fan_in, 1)), size=shape)
        w.assign(v.astype("float32"))


def save(model, name, inputs, out=OUT, fmt="keras", config_json=True):
    outs = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    path = os.path.join(out, f"{name}.{fmt}")
    if fmt == "h5" and not isinstance(model, keras.Model):
        model.save(path, save_format="h5")
    else:
        model.save(path)  # Keras 3 picks the legacy HDF5 format from ".h5"
    if config_json:
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            f.write(model.to_json())
    arrays = {f"input_{i}": x for i, x in enumerate(inputs)}
    arrays.update({f"output_{i}": np.asarray(y) for i, y in enumerate(outs)})
    np.savez(os.path.join(out, f"{name}.npz"), **arrays)
    print(name, [x.shape for x in inputs], "->", len(outs), "outputs", os.path.getsize(path), "bytes")


def hard_sigmoid_k3():
    """The six-line model: Dense, h + 3.0, ReLU(6.), * (1/6), Dense."""
    x = keras.Input((4,), name="x")
    h = layers.Dense(8, name="dense")(x)
    h = layers.ReLU(6.0, name="relu6")(h + 3.0)
    h = h * (1.0 / 6.0)
    y = layers.Dense(3, name="out")(h)
    m = keras.Model(x, y, name="hard_sigmoid")
    randomize(m)
    save(m, "k3_hardsigmoid", [rng.normal(0, 3, size=(16, 4)).astype("float32")])


def hard_sigmoid_k3_h5():
    """The same model saved by Keras 3 in the legacy .h5 format, whose
    entries have no "module": the operations are told from the layers of
    the same class names (Add, Multiply) by their configs. Keras 3.15
    cannot load this file itself (it rebuilds the operations as merge
    layers); the outputs are computed before saving."""
    x = keras.Input((4,), name="x")
    h = layers.Dense(8, name="dense")(x)
    h = layers.ReLU(6.0, name="relu6")(h + 3.0)
    h = h * (1.0 / 6.0)
    y = layers.Dense(3, name="out")(h)
    m = keras.Model(x, y, name="hard_sigmoid")
    randomize(m)
    save(m, "k3_hardsigmoid_h5", [rng.normal(0, 3, size=(16, 4)).astype("float32")], fmt="h5", config_json=False)


def hard_sigmoid_k2():
    x = tf_keras.Input((4,), name="x")
    h = tf_keras.layers.Dense(8, name="dense")(x)
    h = tf_keras.layers.ReLU(6.0, name="relu6")(h + 3.0)
    h = h * (1.0 / 6.0)
    y = tf_keras.layers.Dense(3, name="out")(h)
    m = tf_keras.Model(x, y, name="hard_sigmoid")
    randomize(m)
    save(m, "k2_hardsigmoid", [rng.normal(0, 3, size=(16, 4)).astype("float32")], fmt="h5")


def ops_k3():
    """Every Keras 3 operation the reader maps, scalars on both sides."""
    x = keras.Input((4, 6), name="x")
    h = layers.Dense(6, name="dense")(x)
    pos = ops.abs(h) + 1.0
    outs = [
        3.0 + h, h - 3, 1 - h, h / 6, ops.true_divide(h, 2), ops.divide(2.0, pos),
        ops.maximum(h, 0.5), ops.minimum(0.5, h), ops.maximum(h, x), -h, ops.negative(h),
        ops.relu(h), ops.relu6(h * 4), ops.sigmoid(h), ops.hard_sigmoid(h * 4), ops.hard_silu(h * 4),
        ops.silu(h), ops.gelu(h), ops.gelu(h, approximate=False), ops.tanh(h),
        ops.softmax(h, axis=1), ops.log_softmax(h), ops.leaky_relu(h), ops.elu(h), ops.softplus(h),
        ops.mean(h, axis=[1], keepdims=True), ops.mean(h, axis=-1), ops.sum(h, axis=1),
        ops.max(h, axis=(1, 2), keepdims=True), ops.min(h, axis=2),
        ops.reshape(h, (-1, 24)), ops.transpose(h, (0, 2, 1)), ops.concatenate([h, x], axis=-1),
        ops.sqrt(pos), ops.rsqrt(pos), ops.square(h), ops.power(h, 2), h ** 3, ops.power(pos, 0.5),
        ops.exp(h), ops.log(pos), ops.add(h, x), ops.multiply(h, x), ops.subtract(x, h), h * h,
        h + np.arange(6, dtype="float32"), h[:, 1:3], h[:, 0], h[..., 2:], h[:, ::2, -3:],
    ]
    m = keras.Model(x, outs, name="ops_k3")
    randomize(m)
    save(m, "k3_ops", [rng.normal(0, 2, size=(3, 4, 6)).astype("float32")])


def ops_k3_h5():
    """Every mapped Keras 3 operation saved by Keras 3 as legacy .h5, with
    the merge layers of the same class names beside them."""
    x = keras.Input((4, 6), name="x")
    h = layers.Dense(6, name="dense")(x)
    pos = ops.abs(h) + 1.0
    outs = [
        3.0 + h, h - 3, h / 6, ops.maximum(h, 0.5), ops.minimum(0.5, h), ops.maximum(h, x),
        ops.relu6(h * 4), ops.hard_sigmoid(h * 4), ops.softmax(h, axis=1), ops.gelu(h, approximate=False),
        ops.mean(h, axis=[1], keepdims=True), ops.reshape(h, (-1, 24)), ops.concatenate([h, x], axis=-1),
        ops.rsqrt(pos), ops.add(h, x), ops.multiply(h, x), ops.subtract(x, h),
        h + np.arange(6, dtype="float32"), h[:, ::2, -3:], h[..., 2:],
        layers.Add(name="add_layer")([h, x]), layers.Multiply(name="multiply_layer")([h, x]),
        layers.Subtract(name="subtract_layer")([h, x]), layers.Maximum(name="maximum_layer")([h, x]),
        layers.Minimum(name="minimum_layer")([h, x]), layers.Concatenate(name="concatenate_layer")([h, x]),
        layers.Softmax(axis=1, name="softmax_layer")(h), layers.Reshape((24,), name="reshape_layer")(h),
    ]
    m = keras.Model(x, outs, name="ops_k3_h5")
    randomize(m)
    save(m, "k3_ops_h5", [rng.normal(0, 2, size=(3, 4, 6)).astype("float32")], fmt="h5", config_json=False)


def ops_k2():
    """The TF functions tf_keras records as TFOpLambda / SlicingOpLambda."""
    x = tf_keras.Input((4, 6), name="x")
    h = tf_keras.layers.Dense(6, name="dense")(x)
    pos = tf.math.abs(h) + 1.0
    outs = [
        3.0 + h, h - 3, 1 - h, h / 6, tf.math.truediv(h, 2), tf.math.divide(2.0, pos),
        tf.math.maximum(h, 0.5), tf.math.minimum(0.5, h), tf.math.maximum(h, x), -h,
        tf.nn.relu(h), tf.nn.relu6(h * 4), tf.math.sigmoid(h), tf.nn.silu(h), tf.nn.gelu(h),
        tf.nn.gelu(h, approximate=True), tf.math.tanh(h), tf.nn.softmax(h, axis=1), tf.nn.log_softmax(h),
        tf.nn.leaky_relu(h), tf.nn.elu(h), tf.math.softplus(h),
        tf.math.reduce_mean(h, axis=[1], keepdims=True), tf.reduce_mean(h, axis=-1),
        tf.reduce_sum(h, axis=1), tf.reduce_max(h, axis=[1, 2], keepdims=True), tf.reduce_min(h, axis=2),
        tf.reshape(h, (-1, 24)), tf.transpose(h, (0, 2, 1)), tf.concat([h, x], axis=-1),
        tf.math.sqrt(pos), tf.math.rsqrt(pos), tf.math.square(h), tf.math.pow(h, 2), h ** 3,
        tf.math.exp(h), tf.math.log(pos), tf.math.add(h, x), h * x, x - h, h * h, 2.0 * h, tf.add(h, 1.0),
        h + np.arange(6, dtype="float32"), h[:, 1:3], h[:, 0], h[..., 2:], h[:, ::2, -3:],
    ]
    m = tf_keras.Model(x, outs, name="ops_k2")
    randomize(m)
    save(m, "k2_ops", [rng.normal(0, 2, size=(3, 4, 6)).astype("float32")], fmt="h5")


def unsupported_k3():
    """Three layers that cannot be mapped, to be reported at once: an
    operation the graph lacks (erf), an operation the reader does not know
    (cumsum) and a class of an unknown module (ConvNeXt's LayerScale)."""
    from keras.src.applications.convnext import LayerScale

    x = keras.Input((6,), name="x")
    h = layers.Dense(6, name="dense")(x)
    a = ops.erf(h)
    b = ops.cumsum(h, axis=1)
    c = LayerScale(1e-6, 6, name="layer_scale")(h)
    m = keras.Model(x, [a, b, c], name="unsupported_ops_k3")
    save(m, "k3_ops_unsupported", [rng.normal(size=(2, 6)).astype("float32")])


def unsupported_k2():
    x = tf_keras.Input((6,), name="x")
    h = tf_keras.layers.Dense(6, name="dense")(x)
    a = tf.math.erf(h)
    b = tf.math.cumsum(h, axis=1)
    c = tf.nn.silu(h, beta=2.0)
    m = tf_keras.Model(x, [a, b, c], name="unsupported_ops_k2")
    save(m, "k2_ops_unsupported", [rng.normal(size=(2, 6)).astype("float32")], fmt="h5")


def mobilenet_v3_small():
    inputs = [rng.uniform(0, 255, size=(2, 96, 96, 3)).astype("float32")]
    for tag, app, fmt in [("k3", keras.applications, "keras"), ("k2", tf_keras.applications, "h5"),
                          ("k3h5", keras.applications, "h5")]:
        m = app.MobileNetV3Small(input_shape=(96, 96, 3), weights=None, classes=10,
                                 classifier_activation=None, include_preprocessing=True)
        randomize(m)
        save(m, f"mnv3s_{tag}", inputs, out=ZOO, fmt=fmt, config_json=False)
        if tag != "k3h5":  # its configuration is testdata/apps/k3h5_MobileNetV3Small.json.gz
            with gzip.open(os.path.join(OUT, f"mnv3s_{tag}.json.gz"), "wt") as f:
                f.write(m.to_json())


if __name__ == "__main__":
    hard_sigmoid_k3()
    hard_sigmoid_k2()
    ops_k3()
    ops_k2()
    unsupported_k3()
    unsupported_k2()
    hard_sigmoid_k3_h5()
    ops_k3_h5()
    if ZOO:
        os.makedirs(ZOO, exist_ok=True)
        mobilenet_v3_small()
