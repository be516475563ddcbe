"""Write the architectures of keras.applications models as gzipped JSON.

converter/keras's field tables must accept every configuration field these
real architectures state (tf_keras 2.x and Keras 3), so the Go test decodes
every layer of these configurations. Only the configurations are kept
(weights=None; no weights are downloaded). Exact versions (Python 3.11):

    /tmp/edgeval-gen/bin/pip install keras==3.15.1 tensorflow-cpu==2.21.0 tf_keras==2.21.0
    TF_USE_LEGACY_KERAS=0 /tmp/edgeval-gen/bin/python testdata/gen/keras_app_configs.py converter/keras/testdata/apps

Each file is NAME.json.gz with NAME = k2_<Model> (tf_keras, to_json),
k3_<Model> (Keras 3, to_json, the same object as a .keras config.json) or,
for the models in LEGACY_H5, k3h5_<Model>: the model_config attribute of
the legacy .h5 Keras 3 writes for model.save("x.h5"), whose entries have
no module (its operations look like layers of the same class names).
"""

import gzip
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

OUT = sys.argv[1] if len(sys.argv) > 1 else "converter/keras/testdata/apps"

MODELS = {
    "MobileNet": (96, 96, 3),
    "MobileNetV2": (96, 96, 3),
    "MobileNetV3Small": (96, 96, 3),
    "MobileNetV3Large": (96, 96, 3),
    "ResNet50": (64, 64, 3),
    "ResNet50V2": (64, 64, 3),
    "DenseNet121": (64, 64, 3),
    "EfficientNetB0": (64, 64, 3),
    "EfficientNetV2B0": (64, 64, 3),
    "Xception": (71, 71, 3),
    "NASNetMobile": (224, 224, 3),
    "InceptionV3": (75, 75, 3),
    "ConvNeXtTiny": (32, 32, 3),
    "VGG16": (32, 32, 3),
}


# Models whose Keras 3 legacy .h5 configuration is kept too (they hold
# keras.ops operations: MobileNetV3's hard-sigmoid x + 3.0, ConvNeXt's
# residual additions).
LEGACY_H5 = ("MobileNetV3Small", "ConvNeXtTiny")


def write(name, text):
    path = os.path.join(OUT, name + ".json.gz")
    # mtime=0: the same configuration gives the same bytes.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write(text.encode())
    print(name, os.path.getsize(path))


def legacy_h5_config(model):
    """The model_config attribute of model.save("x.h5") with Keras 3."""
    import tempfile
    import h5py

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model.h5")
        model.save(path)
        with h5py.File(path, "r") as f:
            cfg = f.attrs["model_config"]
    return cfg if isinstance(cfg, str) else cfg.decode()


def main():
    os.makedirs(OUT, exist_ok=True)
    import tf_keras
    import keras

    for prefix, mod in (("k2", tf_keras), ("k3", keras)):
        for model, shape in MODELS.items():
            m = getattr(mod.applications, model)(weights=None, input_shape=shape)
            write(f"{prefix}_{model}", m.to_json())
            if prefix == "k3" and model in LEGACY_H5:
                write(f"k3h5_{model}", legacy_h5_config(m))


if __name__ == "__main__":
    main()
