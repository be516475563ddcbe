"""Generate the unused-weights fixtures of converter/keras/testdata.

A weight in a Keras file that no layer of its configuration reads must fail
the load (keras.UnusedWeightsError) unless Options.AllowUnused is set. These
files hold such weights, written with h5py into real Keras files. Exact
versions (Python 3.11):

    /tmp/edgeval-gen/bin/pip install keras==3.15.1 tensorflow-cpu==2.21.0 tf_keras==2.21.0 h5py==3.14.0
    TF_USE_LEGACY_KERAS=0 /tmp/edgeval-gen/bin/python testdata/gen/keras_unused_fixtures.py converter/keras/testdata

Files:
  unused_extra.h5          testdata/corpus/keras/bn_dense/model_k2.h5 (tf_keras 2.21) plus
                           a layer group "ghost" that the configuration does not have
                           (listed in layer_names, weight ghost/kernel:0), a variable
                           dense/extra:0 listed under the Dense layer, and a dataset
                           dense/stray:0 under it that weight_names does not list.
  unused_k2_weights.h5     tf_keras save_weights of Dense a -> Dense b -> Dense c,
  unused_k2_config.json    with the to_json of the same model without b.
  unused_k3.weights.h5     the same with Keras 3 (save_weights, Keras 3 layout).
  unused_k3_config.json
  k3_trained.keras         Keras 3, compiled and fitted one step (Adam): its weights
                           file holds the optimizer's state, which is never unused.
"""

import os
import shutil
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import h5py  # noqa: E402
import numpy as np  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else "converter/keras/testdata"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def extra():
    path = os.path.join(OUT, "unused_extra.h5")
    shutil.copyfile(os.path.join(ROOT, "testdata/corpus/keras/bn_dense/model_k2.h5"), path)
    with h5py.File(path, "r+") as f:
        mw = f["model_weights"]
        names = [n.decode() if isinstance(n, bytes) else n for n in mw.attrs["layer_names"]]
        mw.attrs["layer_names"] = np.array([n.encode() for n in names + ["ghost"]])
        g = mw.create_group("ghost")
        g.attrs["weight_names"] = np.array([b"ghost/kernel:0"])
        g.create_dataset("ghost/kernel:0", data=np.ones((3, 3), "float32"))
        d = mw["dense"]
        wn = [n.decode() if isinstance(n, bytes) else n for n in d.attrs["weight_names"]]
        d.attrs["weight_names"] = np.array([n.encode() for n in wn + ["dense/extra:0"]])
        d.create_dataset("dense/extra:0", data=np.zeros((2,), "float32"))
        d.create_dataset("dense/stray:0", data=np.zeros((2,), "float32"))
    print("unused_extra.h5", os.path.getsize(path))


def build(mod, with_b):
    L = mod.layers
    x = L.Input((4,), name="x")
    h = L.Dense(6, activation="relu", name="a")(x)
    if with_b:
        h = L.Dense(6, activation="relu", name="b")(h)
    y = L.Dense(2, name="c")(h)
    return mod.Model(x, y, name="abc")


def weights_only(mod, prefix, weights_name):
    rng = np.random.default_rng(7)
    full = build(mod, True)
    for w in full.weights:
        w.assign(rng.normal(0, 0.5, size=tuple(w.shape)).astype("float32"))
    full.save_weights(os.path.join(OUT, weights_name))
    with open(os.path.join(OUT, f"unused_{prefix}_config.json"), "w") as f:
        f.write(build(mod, False).to_json())
    print(weights_name, os.path.getsize(os.path.join(OUT, weights_name)))


def trained():
    import keras

    rng = np.random.default_rng(11)
    keras.utils.set_random_seed(11)
    m = keras.Sequential([
        keras.Input((4,), name="x"),
        keras.layers.Dense(3, name="d1"),
        keras.layers.Dropout(0.2, name="drop"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.Dense(2, name="d2"),
    ], name="trained")
    m.compile("adam", "mse")
    m.fit(rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 2)).astype("float32"), epochs=1, verbose=0)
    path = os.path.join(OUT, "k3_trained.keras")
    m.save(path)
    print("k3_trained.keras", os.path.getsize(path))


def main():
    extra()
    trained()
    import tf_keras
    import keras

    weights_only(tf_keras, "k2", "unused_k2_weights.h5")
    weights_only(keras, "k3", "unused_k3.weights.h5")


if __name__ == "__main__":
    main()
