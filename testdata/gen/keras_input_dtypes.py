"""What an InputLayer's floating dtype means, measured; and the fixtures of it.

converter/keras reads a float64 InputLayer as float32 only where Keras itself
computes in float32 (converter/keras/build.go, checkInputDType). This script
measures it with the real frameworks: for each layer class the reader maps,
the layer after Input(dtype="float64") against the same layer (same weights)
after a float32 Input, on inputs with more digits than float32 holds, in
Keras 3 and tf_keras; and float16/bfloat16 inputs against float32 ones.
Then it writes three Keras 3 fixtures into the directory given:

  k3_input_f64.keras (+ .npz)     Input float64 -> Dense -> ReLU: read as float32
  k3_input_f16.keras              Input float16 -> Dense: refused
  k3_input_f64_op.keras           Input float64 -> x * 2.0 -> Dense: refused

Versions: keras 3.15.1, tf_keras 2.21.0 on tensorflow-cpu 2.21.0. Run:

    TF_USE_LEGACY_KERAS=0 /tmp/edgeval-gen/bin/python testdata/gen/keras_input_dtypes.py converter/keras/testdata
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ["TF_USE_LEGACY_KERAS"] = "0"

import numpy as np  # noqa: E402
import keras  # noqa: E402
import tf_keras  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else "converter/keras/testdata"
rng = np.random.default_rng(20261206)


def layer_cases(L):
    return {
        "Dense": lambda: L.Dense(3), "Conv2D": lambda: L.Conv2D(3, 3),
        "DepthwiseConv2D": lambda: L.DepthwiseConv2D(3), "SeparableConv2D": lambda: L.SeparableConv2D(3, 3),
        "Conv2DTranspose": lambda: L.Conv2DTranspose(3, 3), "BatchNormalization": lambda: L.BatchNormalization(),
        "LayerNormalization": lambda: L.LayerNormalization(), "Activation": lambda: L.Activation("gelu"),
        "ReLU": lambda: L.ReLU(6.0), "LeakyReLU": lambda: L.LeakyReLU(), "ELU": lambda: L.ELU(),
        "PReLU": lambda: L.PReLU(), "Softmax": lambda: L.Softmax(), "Rescaling": lambda: L.Rescaling(1 / 255.0, 0.1),
        "MaxPooling2D": lambda: L.MaxPooling2D(2), "AveragePooling2D": lambda: L.AveragePooling2D(2),
        "GlobalAveragePooling2D": lambda: L.GlobalAveragePooling2D(), "ZeroPadding2D": lambda: L.ZeroPadding2D(),
        "UpSampling2D": lambda: L.UpSampling2D(interpolation="bilinear"), "Flatten": lambda: L.Flatten(),
        "Reshape": lambda: L.Reshape((144,)), "Permute": lambda: L.Permute((2, 1, 3)),
        "Cropping2D": lambda: L.Cropping2D(1), "Dropout": lambda: L.Dropout(0.5),
    }


def measure_layers():
    """Each layer after a float64 Input against the same after float32."""
    x = (rng.normal(size=(2, 6, 6, 4)) * 3 + rng.normal(size=(2, 6, 6, 4)) * 1e-6).astype("float64")
    for lib in (keras, tf_keras):
        for name, make in layer_cases(lib.layers).items():
            outs, weights = [], None
            for dt in ("float32", "float64"):
                i = lib.Input((6, 6, 4), dtype=dt)
                layer = make()
                m = lib.Model(i, layer(i))
                if weights is None:
                    weights = [rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()]
                    if name == "BatchNormalization":
                        weights[3] = np.abs(weights[3]) + 0.5
                layer.set_weights(weights)
                outs.append(m.predict(x, verbose=0).astype("float64"))
            d = np.abs(outs[0] - outs[1]).max()
            print(f"{lib.__name__:9s} float64 -> {name:22s} max|diff| / range = {d / np.ptp(outs[0]):.2g}")


def measure_inputs():
    """Dense after a float64/float16/bfloat16 Input or after an operation."""
    x = (rng.normal(size=(4, 6)) * 1000 + rng.normal(size=(4, 6)) * 1e-3).astype("float64")
    w, b = rng.normal(size=(6, 3)).astype("float32"), rng.normal(size=(3,)).astype("float32")
    for lib in (keras, tf_keras):
        def model(dt, op):
            i = lib.Input((6,), dtype=dt)
            d = lib.layers.Dense(3)
            m = lib.Model(i, d(i * 1.0000001 if op else i))
            d.set_weights([w, b])
            return m.predict(x, verbose=0).astype("float64")

        for op in (False, True):
            ref = model("float32", op)
            for dt in ("float64", "float16", "bfloat16"):
                d = np.abs(model(dt, op) - ref).max()
                what = "x * 1.0000001 -> Dense" if op else "Dense"
                print(f"{lib.__name__:9s} {dt:8s} -> {what:22s} max|diff| / range = {d / np.ptp(ref):.2g}")


def fixtures():
    x = (rng.normal(size=(5, 6)) * 100 + rng.normal(size=(5, 6)) * 1e-4).astype("float64")

    def save(m, name, npz):
        path = os.path.join(OUT, name + ".keras")
        m.save(path)
        if npz:
            np.savez(os.path.join(OUT, name + ".npz"), input_0=x, output_0=m.predict(x, verbose=0))
        print(name, os.path.getsize(path), "bytes")

    i = keras.Input((6,), dtype="float64", name="x")
    save(keras.Model(i, keras.layers.ReLU(name="relu")(keras.layers.Dense(4, name="dense")(i))), "k3_input_f64", True)
    i = keras.Input((6,), dtype="float16", name="x")
    save(keras.Model(i, keras.layers.Dense(4, name="dense")(i)), "k3_input_f16", False)
    i = keras.Input((6,), dtype="float64", name="x")
    save(keras.Model(i, keras.layers.Dense(4, name="dense")(i * 2.0)), "k3_input_f64_op", False)


if __name__ == "__main__":
    measure_layers()
    measure_inputs()
    fixtures()
