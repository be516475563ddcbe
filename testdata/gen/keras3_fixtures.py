"""Generate the small Keras fixtures of converter/keras/testdata.

Made with the real framework so the Go front-end is checked against Keras
itself. Exact versions (Python 3.11):

    python3 -m venv /tmp/kvenv
    /tmp/kvenv/bin/pip install keras==3.15.1 tensorflow-cpu==2.21.0 tf_keras==2.21.0
    TF_ENABLE_ONEDNN_OPTS=0 /tmp/kvenv/bin/python testdata/gen/keras3_fixtures.py converter/keras/testdata

For every model NAME it writes NAME.keras (Keras 3 zip) or NAME.h5 and
NAME.npz holding input_0.. (the inputs, in model.inputs order) and output_0..
(what Keras computed, in model.outputs order). The "k2_" models are saved by
tf_keras (Keras 2 format) when that package is installed. The normal Go test
run reads these files only and never needs Python.
"""

import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else "converter/keras/testdata"
rng = np.random.default_rng(20240611)


def randomize(model):
    """Give every weight non-trivial values (BatchNorm variances positive)."""
    for w in model.weights:
        v = rng.normal(0, 0.5, size=tuple(w.shape)).astype("float32")
        if "variance" in w.path or "moving_variance" in w.name:
            v = rng.uniform(0.5, 2.0, size=tuple(w.shape)).astype("float32")
        if "embeddings" in w.name:
            v = rng.normal(0, 1, size=tuple(w.shape)).astype("float32")
        w.assign(v)


def save(model, name, inputs, fmt="keras"):
    outs = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    if isinstance(outs, dict):
        outs = list(outs.values())
    path = os.path.join(OUT, f"{name}.{fmt}")
    model.save(path)
    arrays = {f"input_{i}": x for i, x in enumerate(inputs)}
    arrays.update({f"output_{i}": np.asarray(y) for i, y in enumerate(outs)})
    np.savez(os.path.join(OUT, f"{name}.npz"), **arrays)
    print(name, [x.shape for x in inputs], "->", [np.asarray(y).shape for y in outs], os.path.getsize(path))


def conv_seq():
    m = keras.Sequential([
        keras.Input((12, 12, 3), name="image"),
        layers.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="conv"),
        layers.BatchNormalization(name="bn"),
        layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw"),
        layers.SeparableConv2D(6, 3, padding="same", activation="relu6", name="sep"),
        layers.Conv2D(4, 3, dilation_rate=2, padding="valid", use_bias=False, name="dilated"),
        layers.ZeroPadding2D(((1, 0), (2, 1)), name="zpad"),
        layers.Cropping2D(((0, 1), (1, 1)), name="crop"),
        layers.MaxPooling2D(2, name="maxpool"),
        layers.UpSampling2D(2, name="up_nearest"),
        layers.UpSampling2D(2, interpolation="bilinear", name="up_bilinear"),
        layers.AveragePooling2D(3, strides=2, padding="same", name="avgpool_same"),
        layers.Conv2DTranspose(3, 3, strides=2, padding="same", name="deconv"),
        layers.Conv2DTranspose(2, 3, strides=1, padding="valid", name="deconv_valid"),
        layers.GlobalMaxPooling2D(name="gmp"),
        layers.Dense(5, activation="softmax", name="probs"),
    ], name="conv_seq")
    randomize(m)
    save(m, "k3_conv_seq", [rng.normal(size=(2, 12, 12, 3)).astype("float32")])


def conv1d():
    x = keras.Input((16, 4), name="seq")
    y = layers.Conv1D(6, 3, strides=2, padding="same", name="c1")(x)
    y = layers.Conv1D(6, 3, dilation_rate=2, padding="causal", groups=2, name="c1_causal")(y)
    y = layers.MaxPooling1D(2, name="mp1")(y)
    y = layers.AveragePooling1D(2, padding="same", name="ap1")(y)
    z = layers.Reshape((2, 3, 2), name="to2d")(y)
    z = layers.Conv2D(4, 3, groups=2, padding="same", name="gconv")(z)
    g1 = layers.GlobalAveragePooling1D(name="gap1")(y)
    g2 = layers.GlobalAveragePooling2D(name="gap2")(z)
    g3 = layers.GlobalMaxPooling1D(name="gmp1")(y)
    out = layers.Concatenate(name="cat")([g1, g2, g3])
    m = keras.Model(x, out, name="conv1d")
    randomize(m)
    save(m, "k3_conv1d", [rng.normal(size=(2, 16, 4)).astype("float32")])


def activations():
    x = keras.Input((3, 7), name="x")
    h = layers.Dense(7, name="pre")(x)
    outs = [
        layers.ReLU(name="relu")(h),
        layers.ReLU(max_value=6.0, name="relu6_layer")(h),
        layers.ReLU(negative_slope=0.1, max_value=1.5, name="relu_general")(h),
        layers.LeakyReLU(negative_slope=0.2, name="leaky")(h),
        layers.PReLU(name="prelu")(h),
        layers.ELU(alpha=0.7, name="elu")(h),
        layers.Softmax(axis=1, name="softmax_axis1")(h),
        layers.Softmax(name="softmax_last")(h),
    ]
    for act in ["selu", "sigmoid", "hard_sigmoid", "tanh", "swish", "silu", "gelu", "hard_swish",
                "softplus", "linear", "relu6", "elu", "softmax", "softsign", "exponential", "mish",
                "leaky_relu", "hard_silu", "log_softmax"]:
        outs.append(layers.Activation(act, name=f"act_{act}")(h))
    outs.append(layers.Dense(4, activation="gelu", name="dense_gelu")(x))
    m = keras.Model(x, outs, name="activations")
    randomize(m)
    save(m, "k3_activations", [rng.normal(0, 2, size=(2, 3, 7)).astype("float32")])


def functional(fmt):
    a = keras.Input((4, 6), name="a")
    b = keras.Input((4, 6), name="b")
    shared = layers.Dense(6, activation="tanh", name="shared")
    sa, sb = shared(a), shared(b)
    inner = keras.Sequential([
        keras.Input((4, 6)),
        layers.Dense(5, activation="relu", name="inner_dense"),
        layers.LayerNormalization(name="inner_ln"),
    ], name="inner")
    ia, ib = inner(sa), inner(sb)
    merged = [
        layers.Add(name="add")([ia, ib]),
        layers.Subtract(name="sub")([ia, ib]),
        layers.Multiply(name="mul")([ia, ib]),
        layers.Average(name="avg")([ia, ib, ia]),
        layers.Maximum(name="max")([ia, ib]),
        layers.Minimum(name="min")([ia, ib]),
    ]
    cat = layers.Concatenate(axis=1, name="cat")(merged)
    cat = layers.Dropout(0.5, name="drop")(cat)
    cat = layers.LayerNormalization(axis=-1, epsilon=1e-3, name="ln")(cat)
    r = layers.Rescaling(2.0, offset=-0.5, name="rescale")(cat)
    p = layers.Permute((2, 1), name="perm")(r)
    f = layers.Flatten(name="flat")(p)
    out1 = layers.Dense(3, name="head1")(f)
    out2 = layers.Reshape((5, 24), name="reshape")(p)
    out2 = layers.GaussianNoise(0.3, name="noise")(out2)
    m = keras.Model([a, b], [out1, out2, sa], name="functional")
    randomize(m)
    ins = [rng.normal(size=(2, 4, 6)).astype("float32") for _ in range(2)]
    save(m, "k3_functional" if fmt == "keras" else "k3_functional_h5", ins, fmt=fmt)


def embedding():
    x = keras.Input((6,), dtype="int32", name="tokens")
    e = layers.Embedding(20, 4, name="emb")(x)
    y = layers.SpatialDropout1D(0.2, name="sdrop")(e)
    y = layers.Flatten(name="flat")(y)
    y = layers.Dense(3, name="out")(y)
    m = keras.Model(x, y, name="embedding")
    randomize(m)
    save(m, "k3_embedding", [rng.integers(0, 20, size=(3, 6)).astype("int32")])


def unknown_layer():
    m = keras.Sequential([
        keras.Input((8,), name="x"),
        layers.Dense(4, name="d"),
        layers.UnitNormalization(name="unitnorm"),
        layers.ReLU(threshold=0.5, name="thresholded"),
        layers.Reshape((2, 2), name="r"),
        layers.LSTM(3, name="lstm"),
        layers.ActivityRegularization(name="actreg"),
        layers.Dense(2, name="d3"),
    ], name="unknown")
    randomize(m)
    save(m, "k3_unsupported", [rng.normal(size=(1, 8)).astype("float32")])


def misc():
    x = keras.Input((10, 3), name="seq")
    y = layers.ZeroPadding1D((2, 1), name="zp1")(x)
    y = layers.Cropping1D((1, 0), name="crop1")(y)
    y = layers.DepthwiseConv1D(3, depth_multiplier=2, padding="same", name="dw1")(y)
    y = layers.SeparableConv1D(4, 3, strides=2, name="sep1")(y)
    y = layers.ELU(name="elu_default")(y)
    m = keras.Model(x, y, name="misc")
    randomize(m)
    save(m, "k3_misc", [rng.normal(size=(2, 10, 3)).astype("float32")])


def weights_only():
    m = keras.Sequential([
        keras.Input((6,), name="x"),
        layers.Dense(4, activation="relu", name="d1"),
        layers.BatchNormalization(name="bn"),
        layers.Dense(2, name="d2"),
    ], name="wo")
    randomize(m)
    x = rng.normal(size=(3, 6)).astype("float32")
    y = m.predict(x, verbose=0)
    m.save_weights(os.path.join(OUT, "k3_weights_only.weights.h5"))
    with open(os.path.join(OUT, "k3_weights_only.json"), "w") as f:
        f.write(m.to_json())
    np.savez(os.path.join(OUT, "k3_weights_only.npz"), input_0=x, output_0=y)
    print("k3_weights_only")


def keras2_models():
    try:
        import tf_keras as k2
    except ImportError:
        print("tf_keras not installed: skipping the k2_ models")
        return
    L = k2.layers
    a = k2.Input((5,), name="a")
    b = k2.Input((5,), name="b")
    shared = L.Dense(4, activation="relu", name="shared")
    inner = k2.Sequential([L.Dense(3, name="inner_dense", input_shape=(4,)),
                           L.BatchNormalization(name="inner_bn")], name="inner")
    x = L.Concatenate(name="cat")([inner(shared(a)), inner(shared(b))])
    out = L.Dense(2, activation="softmax", name="out")(x)
    m = k2.Model([a, b], [out, shared(b)], name="k2_nested")
    for w in m.weights:
        v = rng.normal(0, 0.5, size=tuple(w.shape)).astype("float32")
        if "variance" in w.name:
            v = rng.uniform(0.5, 2.0, size=tuple(w.shape)).astype("float32")
        w.assign(v)
    ins = [rng.normal(size=(2, 5)).astype("float32") for _ in range(2)]
    outs = m.predict(ins, verbose=0)
    path = os.path.join(OUT, "k2_nested.h5")
    m.save(path, save_format="h5")
    arrays = {f"input_{i}": x for i, x in enumerate(ins)}
    arrays.update({f"output_{i}": np.asarray(y) for i, y in enumerate(outs)})
    np.savez(os.path.join(OUT, "k2_nested.npz"), **arrays)
    print("k2_nested", k2.__version__, os.path.getsize(path))

    # Keras 2 semantics that differ from Keras 3: hard_sigmoid, bilinear
    # upsampling, Conv1D and pooling in tf_keras.
    x = k2.Input((6, 6, 2), name="img")
    y = L.Conv2D(3, 3, padding="same", activation="hard_sigmoid", name="conv")(x)
    y = L.UpSampling2D(2, interpolation="bilinear", name="up")(y)
    y = L.DepthwiseConv2D(3, strides=2, depth_multiplier=2, name="dw")(y)
    y = L.SeparableConv2D(4, 2, padding="same", name="sep")(y)
    y = L.AveragePooling2D(2, padding="same", name="ap")(y)
    y = L.Reshape((-1, 4), name="seq")(y)
    y = L.Conv1D(3, 2, padding="causal", name="c1")(y)
    y = L.GlobalMaxPooling1D(name="gmp")(y)
    y = L.Activation("softmax", name="sm")(y)
    m = k2.Model(x, y, name="k2_conv")
    for w in m.weights:
        w.assign(rng.normal(0, 0.5, size=tuple(w.shape)).astype("float32"))
    ins = [rng.normal(size=(2, 6, 6, 2)).astype("float32")]
    out = m.predict(ins[0], verbose=0)
    m.save(os.path.join(OUT, "k2_conv.h5"), save_format="h5")
    np.savez(os.path.join(OUT, "k2_conv.npz"), input_0=ins[0], output_0=out)
    print("k2_conv")


def shared_fixture_outputs(fixtures):
    """Keras's own outputs for the shared .h5 fixtures on seeded inputs."""
    try:
        import tf_keras as k2
    except ImportError:
        return
    cases = {
        "mlcommons-tiny/pretrainedResnet.h5": ("resnet", lambda s: rng.uniform(0, 255, size=s)),
        "mlcommons-tiny/vww_96.h5": ("vww_96", lambda s: rng.uniform(0, 1, size=s)),
        "mlcommons-tiny/ad01.h5": ("ad01", lambda s: rng.normal(0, 1, size=s)),
        "acetone/Concat.h5": ("acetone_concat", lambda s: rng.normal(0, 1, size=s)),
    }
    for rel, (name, gen) in cases.items():
        m = k2.models.load_model(os.path.join(fixtures, "keras", rel), compile=False)
        shape = (2,) + tuple(m.inputs[0].shape[1:])
        x = gen(shape).astype("float32")
        y = m.predict(x, verbose=0)
        np.savez_compressed(os.path.join(OUT, f"shared_{name}.npz"), input_0=x, output_0=y)
        print("shared", name, x.shape, y.shape)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(7)
    conv_seq()
    conv1d()
    activations()
    functional("keras")
    functional("h5")
    embedding()
    unknown_layer()
    misc()
    weights_only()
    keras2_models()
    shared_fixture_outputs(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "fixtures"))
