"""Real photographs at CIFAR-10's scale: 32x32 RGB crops of scikit-image's sample photographs.

Writes OUT (testdata/photos) with:
  calib/<photo>_s<S>_<row>_<col>.png   calibration crops (unlabelled, 32x32 RGB)
  val/<photo>_s<S>_<row>_<col>.png     validation crops, none of them a calibration crop
  crops.json                           which photo, scale and tile each crop is, and the set sizes

The photographs are the RGB ones bundled in scikit-image (`skimage.data`, BSD-3 or public
domain, shipped inside the package: nothing is downloaded): astronaut, chelsea (a cat),
coffee, motorcycle (the left view of stereo_motorcycle) and rocket. Each is downscaled with anti-aliasing
(skimage.transform.resize, anti_aliasing=True) so that its short side is S in 64, 96 and
128 pixels — a whole object spans a few 32-pixel tiles, as in CIFAR-10 — then cut into
non-overlapping 32x32 tiles from the top-left corner. Tiles alternate like a
checkerboard: (row + col) even goes to calib/, odd to val/, so the two sets share no
pixel but come from the same photographs and scales. Pixels are rounded to uint8 and
written with tf.io.encode_png (deterministic): `validate --inputs OUT/val` with no
--scale feeds them as 0..255 floats, the scale ResNet-8 (mlcommons tiny
pretrainedResnet.h5) takes.

Usage: python gen_photos.py OUT   (needs scikit-image: pip install scikit-image)
"""

import json
import os
import shutil
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import numpy as np  # noqa: E402
import skimage  # noqa: E402
import skimage.data  # noqa: E402
import skimage.transform  # noqa: E402
import tensorflow as tf  # noqa: E402

# name -> skimage.data function (stereo_motorcycle gives (left, right, disparity)).
PHOTOS = {"astronaut": "astronaut", "chelsea": "chelsea", "coffee": "coffee", "motorcycle": "stereo_motorcycle", "rocket": "rocket"}
SCALES = [64, 96, 128]
TILE = 32


def photo(name):
    """The photograph as HxWx3 uint8."""
    img = getattr(skimage.data, PHOTOS[name])()
    if isinstance(img, tuple):  # stereo pairs return (left, right, disparity)
        img = img[0]
    assert img.ndim == 3 and img.shape[2] == 3, (name, img.shape)
    return img


def scaled(img, short):
    """img resized (anti-aliased) so that its short side is `short` pixels, as uint8."""
    h, w = img.shape[:2]
    f = short / min(h, w)
    size = (round(h * f), round(w * f))
    out = skimage.transform.resize(img, size, order=1, anti_aliasing=True, preserve_range=True)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def main(out):
    for sub in ("calib", "val"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
        os.makedirs(os.path.join(out, sub))
    crops = []
    for name in PHOTOS:
        img = photo(name)
        for s in SCALES:
            small = scaled(img, s)
            rows, cols = small.shape[0] // TILE, small.shape[1] // TILE
            for r in range(rows):
                for c in range(cols):
                    tile = small[r * TILE:(r + 1) * TILE, c * TILE:(c + 1) * TILE]
                    part = "calib" if (r + c) % 2 == 0 else "val"
                    fn = f"{name}_s{s}_{r}_{c}.png"
                    with open(os.path.join(out, part, fn), "wb") as f:
                        f.write(tf.io.encode_png(tile).numpy())
                    crops.append({"file": f"{part}/{fn}", "photo": name, "scale": s, "row": r, "col": c})
    summary = {
        "source": f"scikit-image {skimage.__version__} skimage.data",
        "photos": list(PHOTOS), "scales": SCALES, "tile": TILE,
        "calib": sum(c["file"].startswith("calib/") for c in crops),
        "val": sum(c["file"].startswith("val/") for c in crops),
        "crops": crops,
    }
    with open(os.path.join(out, "crops.json"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    print(f"{summary['calib']} calibration and {summary['val']} validation crops in {out}")


if __name__ == "__main__":
    main(sys.argv[1])
