"""Write the Keras 1 and Lambda fixtures of converter/keras/testdata.

No Keras 1 is installable (it needs Python 2.7-3.6 and Theano or TF 1.x), so
the Keras 1.2 files are built with h5py from the Keras 1.2.2 schema: the root
attributes keras_version '1.2.2' and model_config (a Sequential whose config is
the list of layers, Keras 1 field names: output_dim, nb_filter, nb_row, nb_col,
border_mode, subsample, dim_ordering, init, W_regularizer, bias, p,
input_dtype ...), model_weights/<layer> groups with weight_names as Keras 1
wrote them on TensorFlow ("<layer>_W:0", "<layer>_b:0"), on Theano
("<layer>_W") or unnamed ("param_<i>"). The Lambda holds the marshalled code
of lambda x: x / 255.0 - 0.5 as CPython 3.5 compiles it (built by hand from
3.5's opcode table), stored as Keras 1.2 stored it: the bytes decoded as
raw_unicode_escape. The expected outputs are tf_keras 2.21's for the same
architecture and weights in Keras 2 terms.

The refused Lambda fixtures are made by the real tf_keras and Keras 3 (Python
3.11 bytecode).

    TF_USE_LEGACY_KERAS=0 /tmp/edgeval-gen/bin/python testdata/gen/keras_legacy_fixtures.py converter/keras/testdata

Files:
  keras1_bc.h5 + .npz       Keras 1.2 behavioural-cloning Sequential: Lambda (Python 3.5 bytecode), Cropping2D,
                            Convolution2D x2 (valid s2 relu; same elu), MaxPooling2D, Flatten, Dense, Dropout, Dense
  keras1_theano.h5          the same with Theano's weight names (no ":0"; the Dense weights unnamed, param_0/1):
                            the convolutions are refused (Theano flips kernels), nothing else is wrong
  keras1_refused.h5         Convolution2D dim_ordering "th", BatchNormalization mode 0, Convolution1D, Merge
  lambda_refused_k2.h5      tf_keras: Lambda(lambda t: tf.abs(t)) and Lambda(lambda t: t[:, 1:])
  lambda_refused.keras      Keras 3: the same
"""

import json
import os
import struct
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402  (a global of the refused lambda)

OUT = sys.argv[1] if len(sys.argv) > 1 else "converter/keras/testdata"


def i32(n):
    return struct.pack("<i", n)


def code35(bytecode, consts, names=(), varnames=("x",), name="<lambda>"):
    """A CPython 3.5 code object as marshal (version 4) writes it."""
    def s(b):
        return b"s" + i32(len(b)) + b

    def z(t):
        b = t.encode()
        return b"Z" + bytes([len(b)]) + b

    def tup(items):
        return b")" + bytes([len(items)]) + b"".join(items)

    def const(c):
        if c is None:
            return b"N"
        if isinstance(c, float):
            return b"g" + struct.pack("<d", c)
        return b"i" + i32(c)

    return (b"\xe3" + i32(1) + i32(0) + i32(len(varnames)) + i32(2) + i32(0x43) + s(bytecode)
            + tup([const(c) for c in consts]) + tup([z(n) for n in names]) + tup([z(v) for v in varnames])
            + tup([]) + tup([]) + z("model.py") + z(name) + i32(31) + s(b"\x00\x01"))


# lambda x: x / 255.0 - 0.5 in Python 3.5: LOAD_FAST 0, LOAD_CONST 1, BINARY_TRUE_DIVIDE, LOAD_CONST 2,
# BINARY_SUBTRACT, RETURN_VALUE (opcodes 124, 100, 27, 100, 24, 83; arguments as two little-endian bytes)
LAMBDA35 = code35(bytes([124, 0, 0, 100, 1, 0, 27, 100, 2, 0, 24, 83]), [None, 255.0, 0.5])

SHAPE = (32, 48, 3)


def k1_layers(dense_in):
    nulls = {"W_regularizer": None, "b_regularizer": None, "activity_regularizer": None,
             "W_constraint": None, "b_constraint": None}
    return [
        {"class_name": "Lambda", "config": {"name": "lambda_1", "trainable": True, "batch_input_shape": [None, *SHAPE],
                                            "input_dtype": "float32",
                                            "function": [LAMBDA35.decode("raw_unicode_escape"), None, None],
                                            "function_type": "lambda", "output_shape": None, "output_shape_type": "raw",
                                            "arguments": {}}},
        {"class_name": "Cropping2D", "config": {"name": "cropping2d_1", "trainable": True, "cropping": [[6, 4], [0, 0]],
                                                "dim_ordering": "tf"}},
        {"class_name": "Convolution2D", "config": {"name": "convolution2d_1", "trainable": True, "nb_filter": 6, "nb_row": 5,
                                                   "nb_col": 5, "init": "glorot_uniform", "activation": "relu",
                                                   "border_mode": "valid", "subsample": [2, 2], "dim_ordering": "tf",
                                                   "bias": True, **nulls}},
        {"class_name": "Convolution2D", "config": {"name": "convolution2d_2", "trainable": True, "nb_filter": 8, "nb_row": 3,
                                                   "nb_col": 3, "init": "glorot_uniform", "activation": "elu",
                                                   "border_mode": "same", "subsample": [1, 1], "dim_ordering": "tf",
                                                   "bias": True, **nulls}},
        {"class_name": "MaxPooling2D", "config": {"name": "maxpooling2d_1", "trainable": True, "pool_size": [2, 2],
                                                  "strides": [2, 2], "border_mode": "valid", "dim_ordering": "tf"}},
        {"class_name": "Flatten", "config": {"name": "flatten_1", "trainable": True}},
        {"class_name": "Dense", "config": {"name": "dense_1", "trainable": True, "output_dim": 16, "init": "glorot_uniform",
                                           "activation": "relu", "bias": True, "input_dim": dense_in, **nulls}},
        {"class_name": "Dropout", "config": {"name": "dropout_1", "trainable": True, "p": 0.5}},
        {"class_name": "Dense", "config": {"name": "dense_2", "trainable": True, "output_dim": 1, "init": "glorot_uniform",
                                           "activation": "linear", "bias": True, "input_dim": 16, **nulls}},
    ]


def keras2_model(K):
    L = K.layers
    x = L.Input(SHAPE)
    h = L.Lambda(lambda t: t / 255.0 - 0.5)(x)
    h = L.Cropping2D(((6, 4), (0, 0)))(h)
    h = L.Conv2D(6, 5, strides=2, activation="relu")(h)
    h = L.Conv2D(8, 3, padding="same", activation="elu")(h)
    h = L.MaxPooling2D()(h)
    h = L.Flatten()(h)
    h = L.Dense(16, activation="relu")(h)
    h = L.Dropout(0.5)(h)
    return K.Model(x, L.Dense(1)(h))


def write_k1(path, layers, weights, names):
    """weights: {layer: [arrays]}; names(layer, i) gives each weight's name."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"1.2.2"
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": layers}).encode()
        f.attrs["training_config"] = json.dumps({"optimizer_config": {"class_name": "Adam", "config": {"lr": 0.001}},
                                                 "loss": "mse", "metrics": [], "sample_weight_mode": None,
                                                 "loss_weights": None}).encode()
        g = f.create_group("model_weights")
        lnames = [l["config"]["name"] for l in layers]
        g.attrs["layer_names"] = [n.encode() for n in lnames]
        for n in lnames:
            lg = g.create_group(n)
            ws = weights.get(n, [])
            wn = [names(n, i) for i in range(len(ws))]
            lg.attrs["weight_names"] = [w.encode() for w in wn]
            for w, a in zip(wn, ws):
                lg.create_dataset(w, data=a)


def main():
    import tf_keras
    rng = np.random.default_rng(20261207)
    m = keras2_model(tf_keras)
    weights = {}
    k2_to_k1 = {"conv2d": "convolution2d_1", "conv2d_1": "convolution2d_2", "dense": "dense_1", "dense_1": "dense_2"}
    for layer in m.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        vals = []
        for w in ws:
            fan_in = int(np.prod(w.shape[:-1])) if w.ndim > 1 else 1
            vals.append((rng.normal(0, 1.0 / np.sqrt(fan_in), w.shape) if w.ndim > 1 else rng.normal(0, 0.2, w.shape))
                        .astype(np.float32))
        layer.set_weights(vals)
        weights[k2_to_k1[layer.name]] = vals
    x = rng.uniform(0, 255, (2, *SHAPE)).astype(np.float32)
    y = m(x, training=False).numpy()
    dense_in = int(weights["dense_1"][0].shape[0])
    layers = k1_layers(dense_in)
    tf_names = lambda n, i: f"{n}_{'Wb'[i]}:0"  # noqa: E731
    write_k1(os.path.join(OUT, "keras1_bc.h5"), layers, weights, tf_names)
    np.savez(os.path.join(OUT, "keras1_bc.npz"), input_0=x, output_0=y)

    def theano_names(n, i):
        return f"{n}_{'Wb'[i]}" if n.startswith("convolution") else f"param_{i}"
    write_k1(os.path.join(OUT, "keras1_theano.h5"), layers, weights, theano_names)

    refused = [
        {"class_name": "Convolution2D", "config": {"name": "convolution2d_1", "trainable": True, "batch_input_shape": [None, 3, 8, 8],
                                                   "input_dtype": "float32", "nb_filter": 4, "nb_row": 3, "nb_col": 3,
                                                   "init": "glorot_uniform", "activation": "linear", "border_mode": "full",
                                                   "subsample": [1, 1], "dim_ordering": "th", "W_regularizer": None,
                                                   "b_regularizer": None, "activity_regularizer": None,
                                                   "W_constraint": None, "b_constraint": None, "bias": True}},
        {"class_name": "BatchNormalization", "config": {"name": "batchnormalization_1", "trainable": True, "epsilon": 0.001,
                                                        "mode": 0, "axis": 1, "momentum": 0.99, "gamma_regularizer": None,
                                                        "beta_regularizer": None}},
        {"class_name": "Reshape", "config": {"name": "reshape_1", "trainable": True, "target_shape": [4, 100]}},
        {"class_name": "Convolution1D", "config": {"name": "convolution1d_1", "trainable": True, "nb_filter": 2,
                                                   "filter_length": 3, "init": "uniform", "activation": "linear",
                                                   "border_mode": "valid", "subsample_length": 1, "W_regularizer": None,
                                                   "b_regularizer": None, "activity_regularizer": None,
                                                   "W_constraint": None, "b_constraint": None, "bias": True,
                                                   "input_dim": None, "input_length": None}},
    ]
    write_k1(os.path.join(OUT, "keras1_refused.h5"), refused, {}, tf_names)

    # Lambdas outside the subset, saved by the real frameworks
    import keras
    for K, path in ((tf_keras, "lambda_refused_k2.h5"), (keras, "lambda_refused.keras")):
        x = K.Input((6,))
        h = K.layers.Lambda(lambda t: tf.abs(t), name="calls_tf")(K.layers.Dense(4)(x))
        h = K.layers.Lambda(lambda t: t[:, 1:], name="slices", output_shape=(3,))(h)
        mdl = K.Model(x, h)
        mdl.save(os.path.join(OUT, path))


if __name__ == "__main__":
    main()
