"""Small PyTorch recurrent files for converter/torch's unit tests (real torch, seeded).

Writes into OUT (converter/torch/testdata):

  rnn_root_relu.pth + .npz   torch.save of a root nn.RNN (relu, 2 layers, bidirectional,
                             sequence-first): the model's outputs are (output, h_n)
  rnn_gru_nobias_core.pt2 + .npz   a GRU without biases (batch_first) after run_decompositions()
  rnn_lstm_hn.pt2 + .npz     torch.export of a 2-layer bidirectional batch_first LSTM
                             whose forward returns (output, h_n)
  rnn_root_lstm.pth          a root nn.LSTM: returns c_n, which the reader refuses
  rnn_lstm_proj.pt2          an LSTM with proj_size (refused)
  rnn_lstm_h0.pt2 + .npz     a 2-layer bidirectional LSTM whose initial states h0, c0 are model inputs
  rnn_gru_h0const.pt2 + .npz a GRU started from a constant state (torch.full(..., 0.3) in forward)
  rnn_lstm_cn.pt2            a forward that returns c_n (refused)
  recurrent_ops.json         the ATen targets nn.LSTM, nn.GRU and nn.RNN (tanh, relu) emit under
                             torch.export in a spread of configurations, default and after
                             run_decompositions(), with the argument names and kinds each is
                             serialized with (the op table TestRecurrentOpTable checks)

Each .npz holds `input` and the outputs PyTorch computed (`output`, `h_n`).
Usage: python gen_torch_rnn_units.py OUT
"""

import os
import sys
import tempfile
import warnings

os.environ["PYTHONHASHSEED"] = "0"
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from common import record_ops, rng_for, seed_of, write_json, write_npz  # noqa: E402

torch.set_num_threads(1)


def perturb(m, rng):
    with torch.no_grad():
        for pn, p in m.named_parameters():
            sd = 0.25 if pn.startswith("bias") else 0.45
            p.copy_(torch.from_numpy(rng.normal(0, sd, tuple(p.shape)).astype(np.float32)))


class Wrap(nn.Module):
    def __init__(self, rnn, ret):
        super().__init__()
        self.rnn = rnn
        self.ret = ret

    def forward(self, x):
        if self.ret == "seq":
            return self.rnn(x)
        y, (h, c) = self.rnn(x)
        return (y, h) if self.ret == "hn" else c


class WithStates(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, h0, c0):
        return self.rnn(x, (h0, c0))[0]


class ConstState(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        h0 = torch.full((1, x.shape[0], self.rnn.hidden_size), 0.3)
        return self.rnn(x, h0)[0]


def make(name, build):
    rng = rng_for("torch-units/" + name)
    torch.manual_seed(seed_of("torch-units/" + name))
    m = build()
    perturb(m, rng)
    return m.eval(), rng


def main():
    out = sys.argv[1]
    # A root nn.RNN: relu, 2 layers, bidirectional, sequence-first.
    m, rng = make("rnn_root_relu", lambda: nn.RNN(4, 3, num_layers=2, nonlinearity="relu", bidirectional=True))
    x = rng.uniform(-1, 1, (5, 2, 4)).astype(np.float32)
    with torch.no_grad():
        y, h = m(torch.from_numpy(x))
    torch.save(m, os.path.join(out, "rnn_root_relu.pth"))
    write_npz(os.path.join(out, "rnn_root_relu.npz"), {"input": x, "output": y.numpy(), "h_n": h.numpy()})

    # An LSTM's (output, h_n) from a .pt2.
    m, rng = make("rnn_lstm_hn", lambda: Wrap(nn.LSTM(4, 3, num_layers=2, bidirectional=True, batch_first=True), "hn"))
    x = rng.uniform(-1, 1, (2, 6, 4)).astype(np.float32)
    with torch.no_grad():
        y, h = m(torch.from_numpy(x))
    torch.export.save(torch.export.export(m, (torch.from_numpy(x),)), os.path.join(out, "rnn_lstm_hn.pt2"))
    write_npz(os.path.join(out, "rnn_lstm_hn.npz"), {"input": x, "output": y.numpy(), "h_n": h.numpy()})

    # A GRU without biases, batch_first, in the core ATen form (mm).
    m, rng = make("rnn_gru_nobias_core", lambda: Wrap(nn.GRU(4, 3, bias=False, batch_first=True), "seq"))
    x = rng.uniform(-1, 1, (2, 6, 4)).astype(np.float32)
    with torch.no_grad():
        y, h = m(torch.from_numpy(x))
    ep = torch.export.export(m, (torch.from_numpy(x),)).run_decompositions()
    torch.export.save(ep, os.path.join(out, "rnn_gru_nobias_core.pt2"))
    write_npz(os.path.join(out, "rnn_gru_nobias_core.npz"), {"input": x, "output": y.numpy(), "h_n": h.numpy()})

    # Initial states: model inputs (a 2-layer bidirectional LSTM), and a
    # non-zero constant a GRU's forward builds.
    m, rng = make("rnn_lstm_h0", lambda: WithStates(nn.LSTM(4, 3, num_layers=2, bidirectional=True, batch_first=True)))
    x = rng.uniform(-1, 1, (2, 6, 4)).astype(np.float32)
    h0 = rng.uniform(-1, 1, (4, 2, 3)).astype(np.float32)
    c0 = rng.uniform(-1, 1, (4, 2, 3)).astype(np.float32)
    args = tuple(torch.from_numpy(a) for a in (x, h0, c0))
    with torch.no_grad():
        y = m(*args)
    torch.export.save(torch.export.export(m, args), os.path.join(out, "rnn_lstm_h0.pt2"))
    write_npz(os.path.join(out, "rnn_lstm_h0.npz"), {"input": x, "h0": h0, "c0": c0, "output": y.numpy()})
    m, rng = make("rnn_gru_h0const", lambda: ConstState(nn.GRU(4, 3, batch_first=True)))
    x = rng.uniform(-1, 1, (2, 6, 4)).astype(np.float32)
    with torch.no_grad():
        y = m(torch.from_numpy(x))
    torch.export.save(torch.export.export(m, (torch.from_numpy(x),)), os.path.join(out, "rnn_gru_h0const.pt2"))
    write_npz(os.path.join(out, "rnn_gru_h0const.npz"), {"input": x, "output": y.numpy()})

    # Refused.
    m, _ = make("rnn_root_lstm", lambda: nn.LSTM(4, 3))
    torch.save(m, os.path.join(out, "rnn_root_lstm.pth"))
    x = torch.zeros(2, 6, 4)
    m, _ = make("rnn_lstm_proj", lambda: Wrap(nn.LSTM(4, 3, proj_size=2, batch_first=True), "hn"))
    torch.export.save(torch.export.export(m, (x,)), os.path.join(out, "rnn_lstm_proj.pt2"))
    m, _ = make("rnn_lstm_cn", lambda: Wrap(nn.LSTM(4, 3, batch_first=True), "cn"))
    torch.export.save(torch.export.export(m, (x,)), os.path.join(out, "rnn_lstm_cn.pt2"))

    # The op table.
    class Seq(nn.Module):
        def __init__(self, rnn):
            super().__init__()
            self.rnn = rnn

        def forward(self, x):
            y, h = self.rnn(x)
            return y, (h[0] if isinstance(h, tuple) else h)

    configs = []
    for cls, kw in ((nn.LSTM, {}), (nn.GRU, {}), (nn.RNN, {}), (nn.RNN, {"nonlinearity": "relu"})):
        for extra in ({}, {"num_layers": 2, "bidirectional": True}, {"batch_first": True, "bias": False}):
            configs.append((cls, {**kw, **extra}))
    ops = {"torch": torch.__version__, "models": {}, "args": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for cls, kw in configs:
            name = cls.__name__ + "".join(f"_{k}={v}" for k, v in sorted(kw.items()))
            m = Seq(cls(4, 3, **kw)).eval()
            x = torch.zeros(2, 5, 4)
            ep = torch.export.export(m, (x,))
            rec = {}
            for form, prog in (("default", ep), ("decomposed", ep.run_decompositions())):
                p = os.path.join(tmp, "m.pt2")
                torch.export.save(prog, p)
                rec[form] = record_ops(p, ops["args"])
            ops["models"][name] = rec
    write_json(os.path.join(out, "recurrent_ops.json"), ops)


if __name__ == "__main__":
    main()
