"""Benchmark models for the reference's speed (issue 16): real architectures at the sizes the issue measures.

Not committed (about 120 MB); the Go benchmarks (bench.BenchmarkReference) read them from the directory
EDGEVAL_BENCH_MODELS names and skip the ones absent. Weights only need to be real-sized: He-normal kernels
(Keras' and torchvision's own initialisers), seeded, no training; no expected outputs are written (the corpus
and the zoo check correctness, these files only time).

  mobilenet_v2_035_96.h5    tf_keras.applications.MobileNetV2(alpha=0.35, 96x96x3, classes=10)   (NHWC)
  resnet50_128.h5           tf_keras.applications.ResNet50(128x128x3, classes=10)                 (NHWC)
  resnet18_96.pt2           torchvision resnet18(num_classes=10), torch.export at [1,3,96,96]     (NCHW)
  mobilenet_v2_035_96.pt2   torchvision MobileNetV2(width_mult=0.35), torch.export at [1,3,96,96] (NCHW)

Usage:
  PYTHONHASHSEED=0 CUDA_VISIBLE_DEVICES= TF_USE_LEGACY_KERAS=0 /tmp/edgeval-gen/bin/python gen_bench.py /tmp/edgeval-bench
"""

import os
import subprocess
import sys

os.environ.setdefault("PYTHONHASHSEED", "0")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")


def keras_models(out):
    import tensorflow as tf
    import tf_keras

    tf.random.set_seed(1)
    m = tf_keras.applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), weights=None, classes=10)
    m.save(os.path.join(out, "mobilenet_v2_035_96.h5"))
    tf.random.set_seed(2)
    m = tf_keras.applications.ResNet50(input_shape=(128, 128, 3), weights=None, classes=10)
    m.save(os.path.join(out, "resnet50_128.h5"))


def torch_models(out):
    import torch
    from torchvision import models as tvm
    from torchvision.models import mobilenetv2

    torch.set_num_threads(1)
    for name, build in [("resnet18_96", lambda: tvm.resnet18(weights=None, num_classes=10)),
                        ("mobilenet_v2_035_96", lambda: mobilenetv2.MobileNetV2(num_classes=10, width_mult=0.35))]:
        torch.manual_seed(3)
        m = build().eval()
        x = torch.rand(1, 3, 96, 96)
        ep = torch.export.export(m, (x,))
        torch.export.save(ep, os.path.join(out, name + ".pt2"))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    if sys.argv[2:] == ["--torch"]:
        torch_models(out)
        return
    keras_models(out)
    # torch in its own process: importing it after TensorFlow ends this one without a word.
    subprocess.run([sys.executable, __file__, out, "--torch"], check=True)


if __name__ == "__main__":
    main()
