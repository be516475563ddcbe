"""Generate real Keras files with recurrent layers that converter/keras refuses.

Each refused configuration changes what the layer computes (a mask skips
steps, a state carried over from another batch, states as extra outputs,
time-major inputs, an activation that is not elementwise), so reading the file
while dropping it would make the Go reference and the converted model agree on
a wrong answer. Exact versions (Python 3.11):

    /tmp/edgeval-gen/bin/pip install keras==3.15.1 tensorflow-cpu==2.21.0 tf_keras==2.21.0
    TF_USE_LEGACY_KERAS=0 /tmp/edgeval-gen/bin/python testdata/gen/keras_rnn_fixtures.py converter/keras/testdata

Files:
  rnn_refused_k3.keras  Keras 3: Masking -> LSTM, Embedding(mask_zero=True) -> GRU, LSTM(return_state=True),
                        GRU(stateful=True), SimpleRNN(activation="softmax"), LSTM(recurrent_activation="mish"),
                        an LSTM called with initial_state.
  rnn_refused_k2.h5     tf_keras 2.21: LSTM(time_major=True), SimpleRNN(stateful=True),
                        Bidirectional(GRU(return_state=True)).
"""

import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

OUT = sys.argv[1] if len(sys.argv) > 1 else "converter/keras/testdata"


def k3():
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    x = keras.Input((5, 3), batch_size=1, name="x")
    tokens = keras.Input((5,), dtype="int32", batch_size=1, name="tokens")
    a = layers.LSTM(2, name="masked_lstm")(layers.Masking(0.0, name="masking")(x))
    b = layers.GRU(2, name="mask_zero_gru")(layers.Embedding(10, 3, mask_zero=True, name="emb")(tokens))
    c, _, _ = layers.LSTM(2, return_state=True, name="state_lstm")(x)
    d = layers.GRU(2, stateful=True, name="stateful_gru")(x)
    e = layers.SimpleRNN(2, activation="softmax", name="softmax_rnn")(x)
    f = layers.LSTM(2, recurrent_activation="mish", name="mish_lstm")(x)
    h0 = layers.Dense(2, name="h0")(layers.Flatten(name="flat")(x))
    g = layers.LSTM(2, name="init_lstm")(x, initial_state=[h0, h0])
    out = layers.Concatenate(name="cat")([a, b, c, d, e, f, g])
    m = keras.Model([x, tokens], out)
    m.save(os.path.join(OUT, "rnn_refused_k3.keras"))


def k2():
    import tf_keras as keras
    from tf_keras import layers

    keras.utils.set_random_seed(0)
    x = keras.Input((5, 3), batch_size=1, name="x")
    a = layers.LSTM(2, time_major=True, name="time_major_lstm")(x)
    b = layers.SimpleRNN(2, stateful=True, name="stateful_rnn")(x)
    c = layers.Bidirectional(layers.GRU(2, return_state=True), name="bi_state")(x)[0]
    m = keras.Model(x, [a, b, c])
    m.save(os.path.join(OUT, "rnn_refused_k2.h5"))


if __name__ == "__main__":
    k3()
    k2()
