"""Generate real Keras files whose layers state fields converter/keras refuses.

Each refused field changes what the layer computes (or the precision it
computes in), so reading the file while dropping it would make the Go
reference and the converted model agree on a wrong answer. Exact versions
(Python 3.11):

    /tmp/edgeval-gen/bin/pip install keras==3.15.1 tensorflow-cpu==2.21.0 tf_keras==2.21.0
    TF_USE_LEGACY_KERAS=0 /tmp/edgeval-gen/bin/python testdata/gen/keras_refused_fields.py converter/keras/testdata

Files:
  refused_k3.keras  Keras 3: Embedding(mask_zero=True) (feeding a Flatten), Dense with LoRA enabled (rank 2),
                    LayerNormalization(rms_scaling=True), a mixed_float16 Dense,
                    and a BatchNormalization(synchronized=True), which is accepted.
  refused_k2.h5     tf_keras 2.21: BatchNormalization(renorm=True) and a Dense
                    with the mixed_float16 policy.
"""

import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

OUT = sys.argv[1] if len(sys.argv) > 1 else "converter/keras/testdata"


def k3():
    import keras
    from keras import layers

    tokens = keras.Input((5,), dtype="int32", name="tokens")
    x = keras.Input((4,), name="x")
    e = layers.Embedding(10, 3, mask_zero=True, name="emb")(tokens)
    # Flatten takes no mask: the node has no mask argument, the field alone
    # says the output is masked.
    p = layers.Flatten(name="flat")(e)
    lora = layers.Dense(6, name="lora_dense")
    h = lora(x)
    lora.enable_lora(2)
    h = layers.LayerNormalization(rms_scaling=True, name="rms")(h)
    h = layers.Dense(6, dtype="mixed_float16", name="half")(h)
    h = layers.BatchNormalization(synchronized=True, name="bn")(h)
    m = keras.Model([tokens, x], [p, h], name="refused_k3")
    path = os.path.join(OUT, "refused_k3.keras")
    m.save(path)
    print("refused_k3.keras", os.path.getsize(path))


def k2():
    import tf_keras as k

    x = k.Input((4,), name="x")
    h = k.layers.Dense(6, name="dense")(x)
    h = k.layers.BatchNormalization(renorm=True, name="renorm_bn")(h)
    h = k.layers.Dense(3, dtype="mixed_float16", name="half")(h)
    m = k.Model(x, h, name="refused_k2")
    path = os.path.join(OUT, "refused_k2.h5")
    m.save(path)
    print("refused_k2.h5", os.path.getsize(path))


if __name__ == "__main__":
    k3()
    k2()
