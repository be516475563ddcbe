"""Real labelled data for accuracy runs: scikit-learn's bundled `digits` set.

Writes OUT (testdata/digits) with:
  test/<class>/<index>.png    held-out test images (ImageFolder layout: one folder per class, 0..9)
  calib/<class>/<index>.png   a calibration set drawn from the training split (apart from test/)
  model_k2.h5                 a small CNN trained with tf_keras (Keras 2 HDF5)
  model.keras                 the same weights in Keras 3
  tf_float32.tflite           the real TFLiteConverter's float32 file of model_k2.h5
  tf_int8.tflite              the real converter's full-int8 file (float I/O), calibrated on calib/
  expected.json               the frameworks' own top-1 accuracy on test/, and the real converter's
  model_torch.pth             (when torch is importable) a PyTorch classifier taking NCHW RGB input

The digits (1,797 8x8 images, values 0..16, BSD-licensed, shipped inside
scikit-learn: nothing is downloaded) are scaled to 0..255, upscaled to 16x16
with tf.image.resize (bilinear), rounded to uint8 and written as grayscale PNGs.
Every accuracy in expected.json is computed on the PNG files as written, decoded
by tf.io.decode_png and multiplied by float32(1/255) — what
`validate --dataset OUT/test --scale 1/255` feeds the model.

Usage: python gen_digits.py OUT   (TF_USE_LEGACY_KERAS=0; takes about a minute)
"""

import json
import os
import shutil
import sys

os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["PYTHONHASHSEED"] = "0"
os.environ["TF_DETERMINISTIC_OPS"] = "1"

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402
import keras  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

from common import normalize_zip, write_json  # noqa: E402
from gen_keras import strip_date  # noqa: E402


SIZE = 16      # the images' and the models' height and width
TEST = 360     # held-out test images
CALIB = 200    # calibration images, from the training split
SCALE = np.float32(1 / 255)


def images_u8(digits):
    """The 8x8 digits (0..16) as SIZE x SIZE uint8 images (bilinear, as tf.image.resize)."""
    x = (digits.images.astype(np.float32) * (255 / 16))[..., None]
    up = tf.image.resize(x, (SIZE, SIZE), method="bilinear").numpy()
    return np.clip(np.round(up), 0, 255).astype(np.uint8)


def write_folder(root, xs, ys, idx):
    """Write images xs[idx] as root/<label>/<index>.png; return the paths in ImageFolder order."""
    for c in range(10):
        os.makedirs(os.path.join(root, str(c)), exist_ok=True)
    for i in idx:
        png = tf.io.encode_png(xs[i]).numpy()
        with open(os.path.join(root, str(ys[i]), f"{i:04d}.png"), "wb") as f:
            f.write(png)


def read_folder(root):
    """Decode an ImageFolder tree as validate does: sorted class folders, sorted files, x * float32(1/255)."""
    classes = sorted(os.listdir(root))
    xs, ys = [], []
    for c, name in enumerate(classes):
        for fn in sorted(os.listdir(os.path.join(root, name))):
            img = tf.io.decode_png(tf.io.read_file(os.path.join(root, name, fn)), channels=1)
            xs.append(tf.cast(img, tf.float32).numpy() * SCALE)
            ys.append(c)
    return np.stack(xs), np.array(ys)


def build(k):
    return k.Sequential([
        k.Input((SIZE, SIZE, 1), name="image"),
        k.layers.Conv2D(8, 3, activation="relu", name="conv1"),
        k.layers.BatchNormalization(name="bn1"),
        k.layers.MaxPooling2D(2, name="pool1"),
        k.layers.Conv2D(16, 3, activation="relu", name="conv2"),
        k.layers.Flatten(name="flatten"),
        k.layers.Dense(10, activation="softmax", name="probs"),
    ], name="digits_cnn")


def accuracy(pred, ys):
    correct = int((np.argmax(pred, axis=1) == ys).sum())
    return {"top1_correct": correct, "samples": int(len(ys)), "top1": correct / len(ys)}


def run_tflite(path, xs):
    it = Interpreter(model_path=path)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    ys = []
    for x in xs:
        it.set_tensor(inp["index"], x[None])
        it.invoke()
        ys.append(it.get_tensor(out["index"])[0].astype(np.float32))
    return np.stack(ys)


def torch_model(out, train_x, train_y, test_x, rec):
    """A PyTorch classifier on NCHW RGB input (the gray digits replicated): trained in a child process
    (gen_digits_torch.py; torch and TensorFlow in one process crash), when torch is installed."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        arrays = os.path.join(tmp, "arrays.npz")
        np.savez(arrays, train_x=train_x, train_y=train_y, test_x=test_x)
        here = os.path.dirname(os.path.abspath(__file__))
        r = subprocess.run([sys.executable, os.path.join(here, "gen_digits_torch.py"), arrays, out],
                           capture_output=True, text=True)
        if r.returncode == 3:
            rec["skipped"]["torch"] = r.stdout.strip()
            return None
        if r.returncode != 0:
            sys.exit("gen_digits_torch.py failed:\n" + r.stderr)
        info = json.loads(r.stdout)
        rec["torch"] = info
        return np.load(os.path.join(out, ".torch_logits.npy"))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_digits.py OUT")
    out = sys.argv[1]
    for sub in ("test", "calib"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    os.makedirs(out, exist_ok=True)
    digits = load_digits()
    xs, ys = images_u8(digits), digits.target.astype(np.int64)
    perm = np.random.default_rng(0).permutation(len(ys))
    test_idx, train_idx = np.sort(perm[:TEST]), perm[TEST:]
    calib_idx = np.sort(train_idx[:CALIB])
    write_folder(os.path.join(out, "test"), xs, ys, test_idx)
    write_folder(os.path.join(out, "calib"), xs, ys, calib_idx)

    # Train on the training split (which includes the calibration images).
    tf_keras.utils.set_random_seed(0)
    tf.config.experimental.enable_op_determinism()
    m2 = build(tf_keras)
    m2.compile(optimizer=tf_keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    train_x = xs[train_idx].astype(np.float32) * SCALE
    m2.fit(train_x, ys[train_idx], epochs=4, batch_size=32, verbose=0, shuffle=True)
    m2.save(os.path.join(out, "model_k2.h5"))
    m3 = build(keras)
    m3.set_weights(m2.get_weights())
    p = os.path.join(out, "model.keras")
    m3.save(p)
    normalize_zip(p, strip_date)

    test_x, test_y = read_folder(os.path.join(out, "test"))
    calib_x, _ = read_folder(os.path.join(out, "calib"))
    rec = {
        "source": f"sklearn.datasets.load_digits (scikit-learn {sklearn.__version__}), 8x8 -> {SIZE}x{SIZE} "
                  "bilinear (tf.image.resize), uint8 grayscale PNG",
        "preprocessing": "tf.io.decode_png(channels=1), float32, x * float32(1/255): validate --scale 1/255",
        "classes": [str(c) for c in range(10)],
        "test": {"dir": "test", "samples": int(len(test_y)), "per_class": np.bincount(test_y, minlength=10).tolist()},
        "calib": {"dir": "calib", "samples": int(len(calib_idx))},
        "versions": {"tensorflow": tf.__version__, "tf_keras": tf_keras.__version__, "keras": keras.__version__},
        "skipped": {},
    }
    rec["keras_k2"] = {"file": "model_k2.h5", **accuracy(m2.predict(test_x, verbose=0), test_y)}
    rec["keras3"] = {"file": "model.keras", **accuracy(np.asarray(m3(test_x, training=False)), test_y)}

    conv = tf.lite.TFLiteConverter.from_keras_model(m2)
    f32 = conv.convert()
    with open(os.path.join(out, "tf_float32.tflite"), "wb") as f:
        f.write(f32)
    conv = tf.lite.TFLiteConverter.from_keras_model(m2)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([x[None]] for x in calib_x)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    i8 = conv.convert()
    with open(os.path.join(out, "tf_int8.tflite"), "wb") as f:
        f.write(i8)
    for kind in ("float32", "int8"):
        path = os.path.join(out, f"tf_{kind}.tflite")
        rec[f"tflite_{kind}"] = {"file": f"tf_{kind}.tflite", "runtime": "ai-edge-litert Interpreter",
                                 "converter": f"tensorflow {tf.__version__}"
                                 + (", full int8, float I/O, calibrated on calib/" if kind == "int8" else ""),
                                 **accuracy(run_tflite(path, test_x), test_y)}

    train_x_all = xs[train_idx].astype(np.float32) * SCALE
    logits = torch_model(out, train_x_all, ys[train_idx], test_x, rec)
    if logits is not None:
        os.remove(os.path.join(out, ".torch_logits.npy"))
        rec["torch"]["test"] = accuracy(logits, test_y)
    write_json(os.path.join(out, "expected.json"), rec)
    print(json.dumps({k: v for k, v in rec.items() if k not in ("classes",)}, indent=1))


if __name__ == "__main__":
    main()
