"""Reference decodes and resizes from the real libraries, for package golden's image tests.

Writes OUT (golden/testdata/images) with:
  photo.png     a 48x64 RGB crop of scikit-learn's bundled china.jpg (a real photograph, CC BY 2.0)
  photo.jpg     the same crop encoded by tf.io.encode_jpeg (quality 90, 4:2:0 chroma)
  gray.png      its grayscale version (tf.image.rgb_to_grayscale, rounded)
  reference.npz
    jpeg_tf     tf.io.decode_jpeg(photo.jpg) (libjpeg-turbo, TF's defaults)
    jpeg_pil    PIL.Image.open(photo.jpg).convert("RGB")
    gray_tf     tf.image.rgb_to_grayscale(photo.png as float32), unrounded
    resize_HxW  tf.image.resize(photo.png as float32, (H, W)) (bilinear, half-pixel centers, no antialias)
    resize_gray_HxW  the same for gray.png
    pil_up_HxW  PIL's bilinear resize of photo.png (uint8) for the upscaled sizes: equal to TF's up to rounding
    digits      scikit-learn's 8x8 digits 0..3 scaled to 0..255 (float32), digits_up the same at 16x16 (TF)

Usage: python gen_images.py OUT
"""

import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.datasets import load_digits, load_sample_image  # noqa: E402

from common import write_npz  # noqa: E402

SIZES = [(48, 64), (20, 27), (113, 90), (7, 150), (1, 1)]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    china = load_sample_image("china.jpg")  # 427 x 640 x 3 uint8
    crop = np.ascontiguousarray(china[180:228, 300:364])  # 48 x 64: roof edges, sky, leaves
    with open(os.path.join(out, "photo.png"), "wb") as f:
        f.write(tf.io.encode_png(crop).numpy())
    jpg = tf.io.encode_jpeg(crop, quality=90, chroma_downsampling=True).numpy()
    with open(os.path.join(out, "photo.jpg"), "wb") as f:
        f.write(jpg)
    x = tf.cast(crop, tf.float32)
    gray = tf.image.rgb_to_grayscale(x)
    gray_u8 = np.clip(np.round(gray.numpy()), 0, 255).astype(np.uint8)
    with open(os.path.join(out, "gray.png"), "wb") as f:
        f.write(tf.io.encode_png(gray_u8).numpy())
    arrays = {
        "jpeg_tf": tf.io.decode_jpeg(jpg).numpy(),
        "jpeg_pil": np.asarray(Image.open(os.path.join(out, "photo.jpg")).convert("RGB")),
        "gray_tf": gray.numpy(),
    }
    g = tf.cast(gray_u8, tf.float32)
    for h, w in SIZES:
        arrays[f"resize_{h}x{w}"] = tf.image.resize(x, (h, w), method="bilinear").numpy()
        arrays[f"resize_gray_{h}x{w}"] = tf.image.resize(g, (h, w), method="bilinear").numpy()
        if h >= 48 and w >= 64:
            arrays[f"pil_up_{h}x{w}"] = np.asarray(Image.fromarray(crop).resize((w, h), Image.BILINEAR))
    d = load_digits().images[:4].astype(np.float32) * (255 / 16)
    arrays["digits"] = d[..., None]
    arrays["digits_up"] = tf.image.resize(d[..., None], (16, 16), method="bilinear").numpy()
    write_npz(os.path.join(out, "reference.npz"), arrays)


if __name__ == "__main__":
    main()
