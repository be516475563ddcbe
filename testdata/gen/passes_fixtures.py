"""Generate the Keras fixtures of converter/passes/testdata.

Each model puts a Permute (a Transpose in the graph) before an op whose
channels-last rewrite depends on the layout of its input (LayerNormalization,
Softmax(axis), BatchNormalization(axis), Concatenate(axis), Dense on rank 3
and 4, global pooling, Flatten/Reshape): the patterns of MLP-Mixer blocks
that once made ToNHWC emit a malformed graph. They are checked end to end by
converter/passes/keras_layout_test.go (load, passes, .tflite, LiteRT)
against the outputs Keras computed here.

Made with the real frameworks (Python 3.11, keras 3.15.1, tf_keras 2.21.0,
tensorflow-cpu 2.21.0, numpy, h5py):

    TF_USE_LEGACY_KERAS=0 /tmp/edgeval-gen/bin/python testdata/gen/passes_fixtures.py converter/passes/testdata

For every model NAME it writes NAME.keras (Keras 3 zip) or NAME.h5 (tf_keras,
for the "k2_" models) and NAME.npz holding input_0.. (the seeded inputs, in
model.inputs order) and output_0.. (what Keras computed, in model.outputs
order). The Go tests read these files only and never need Python.
"""

import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else "converter/passes/testdata"
rng = np.random.default_rng(20261206)


def randomize(model):
    """Give every weight non-trivial values (BatchNorm variances positive)."""
    for w in model.weights:
        name = getattr(w, "path", w.name)
        v = rng.normal(0, 0.5, size=tuple(w.shape)).astype("float32")
        if "variance" in name:
            v = rng.uniform(0.5, 2.0, size=tuple(w.shape)).astype("float32")
        w.assign(v)


def save(model, name, inputs, fmt="keras"):
    outs = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    if isinstance(outs, dict):
        outs = list(outs.values())
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    path = os.path.join(OUT, f"{name}.{fmt}")
    if fmt == "h5":
        model.save(path, save_format="h5")
    else:
        model.save(path)
    arrays = {f"input_{i}": x for i, x in enumerate(inputs)}
    arrays.update({f"output_{i}": np.asarray(y) for i, y in enumerate(outs)})
    np.savez(os.path.join(OUT, f"{name}.npz"), **arrays)
    print(name, [x.shape for x in inputs], "->", [np.asarray(y).shape for y in outs], os.path.getsize(path))


def seq_input(n=2, t=16, c=8):
    return rng.normal(size=(n, t, c)).astype("float32")


def perm_layernorm():
    """Input(16, 8) -> Permute((2, 1)) -> LayerNormalization -> Dense."""
    x = keras.Input((16, 8), name="x")
    y = layers.Permute((2, 1), name="perm")(x)
    y = layers.LayerNormalization(name="ln")(y)
    y = layers.Dense(4, name="dense")(y)
    m = keras.Model(x, y, name="perm_layernorm")
    randomize(m)
    save(m, "k3_perm_layernorm", [seq_input()])


def mixer_block():
    """One MLP-Mixer block: token mixing across the transposed sequence,
    channel mixing, then a classifier head."""
    x = keras.Input((16, 8), name="patches")
    h = layers.LayerNormalization(epsilon=1e-6, name="ln_tokens")(x)
    h = layers.Permute((2, 1), name="to_tokens")(h)
    h = layers.Dense(12, activation="gelu", name="token_mlp1")(h)
    h = layers.Dense(16, name="token_mlp2")(h)
    h = layers.Permute((2, 1), name="from_tokens")(h)
    x1 = layers.Add(name="skip1")([x, h])
    h = layers.LayerNormalization(epsilon=1e-6, name="ln_channels")(x1)
    h = layers.Dense(10, activation="gelu", name="channel_mlp1")(h)
    h = layers.Dense(8, name="channel_mlp2")(h)
    x2 = layers.Add(name="skip2")([x1, h])
    y = layers.LayerNormalization(epsilon=1e-6, name="ln_head")(x2)
    y = layers.GlobalAveragePooling1D(name="gap")(y)
    y = layers.Dense(3, activation="softmax", name="head")(y)
    m = keras.Model(x, y, name="mixer_block")
    randomize(m)
    save(m, "k3_mixer_block", [seq_input()])


def perm_axis_ops():
    """Permute before ops with an axis: Softmax(axis=1), Softmax(-1),
    BatchNormalization(axis=1), Concatenate(axis=1), GlobalMaxPooling1D,
    Flatten and Reshape, LayerNormalization over two axes."""
    x = keras.Input((6, 5), name="x")
    p = layers.Permute((2, 1), name="perm")(x)  # (5, 6)
    s1 = layers.Softmax(axis=1, name="softmax_ax1")(p)
    s2 = layers.Softmax(axis=-1, name="softmax_last")(p)
    bn = layers.BatchNormalization(axis=1, name="bn_ax1")(p)
    cat = layers.Concatenate(axis=1, name="cat_ax1")([p, bn])  # (10, 6)
    gmp = layers.GlobalMaxPooling1D(name="gmp")(cat)  # (6,)
    flat = layers.Flatten(name="flat")(s1)
    flat = layers.Dense(3, name="flat_dense")(flat)
    rs = layers.Reshape((30,), name="reshape")(bn)
    rs = layers.Dense(2, name="reshape_dense")(rs)
    ln2 = layers.LayerNormalization(axis=[1, 2], name="ln_both")(p)
    m = keras.Model(x, [s1, s2, gmp, flat, rs, ln2], name="perm_axis_ops")
    randomize(m)
    save(m, "k3_perm_axis_ops", [rng.normal(size=(2, 6, 5)).astype("float32")])


def perm_image():
    """An image Permute((3, 1, 2)) to channels-first, then a Dense on the
    last axis (a Conv1D-like mixing along the image width), BatchNorm on the
    channel axis 1, a Conv2D reading the permuted value as an image, global
    pooling and a Permute back."""
    x = keras.Input((6, 7, 3), name="image")
    p = layers.Permute((3, 1, 2), name="to_chw")(x)  # (3, 6, 7)
    d = layers.Dense(5, name="width_mix")(p)  # (3, 6, 5)
    b = layers.BatchNormalization(axis=1, name="bn_c")(d)
    c = layers.Conv2D(4, 3, padding="same", name="conv")(b)  # (3, 6, 4)
    g = layers.GlobalAveragePooling2D(name="gap")(c)  # (4,)
    back = layers.Permute((2, 3, 1), name="to_hwc")(b)  # (6, 5, 3)
    ln = layers.LayerNormalization(axis=[2, 3], name="ln_wc")(back)
    s = layers.Softmax(axis=1, name="softmax_h")(ln)
    m = keras.Model(x, [g, s], name="perm_image")
    randomize(m)
    save(m, "k3_perm_image", [rng.normal(size=(2, 6, 7, 3)).astype("float32")])


def keras2_perm_layernorm():
    try:
        import tf_keras as k2
    except ImportError:
        print("tf_keras not installed: skipping k2_perm_layernorm")
        return
    L = k2.layers
    x = k2.Input((16, 8), name="x")
    y = L.Permute((2, 1), name="perm")(x)
    y = L.LayerNormalization(name="ln")(y)
    y = L.Dense(4, name="dense")(y)
    y = L.Softmax(axis=1, name="softmax_ax1")(y)
    m = k2.Model(x, y, name="k2_perm_layernorm")
    for w in m.weights:
        w.assign(rng.normal(0, 0.5, size=tuple(w.shape)).astype("float32"))
    save(m, "k2_perm_layernorm", [seq_input()], fmt="h5")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(7)
    perm_layernorm()
    mixer_block()
    perm_axis_ops()
    perm_image()
    keras2_perm_layernorm()
