"""Small PyTorch models and the outputs PyTorch computes for them (run by torch_fixtures.py models).

Every model is put in eval mode after a few train-mode passes, so BatchNorm running statistics are not the identity.
Each NAME.{pth,pt,pt2} gets NAME.npz with arrays `input` and `output` (PyTorch's result).
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def condition(model, shape):
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(*shape) * 2 + 0.5)
    model.eval()


def save_io(out, name, model, x):
    with torch.no_grad():
        y = model(x)
    np.savez(os.path.join(out, name + ".npz"), input=x.numpy(), output=y.numpy())


class Net(nn.Module):
    """A custom root module: its forward is not in a torch.save file."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.shortcut = nn.Conv2d(3, 8, 1)
        self.head = nn.Linear(16 * 4 * 4, 5)

    def forward(self, x):
        s = self.shortcut(x)
        y = torch.cat([self.features(x) + s, s], dim=1)
        y = F.max_pool2d(y, 2)
        return self.head(torch.flatten(y, 1))


class Tokens(nn.Module):
    """A state_dict model for the --arch ops: Embedding, LayerNorm, permute, Conv1d, GELU(tanh), mean, mul, view."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.norm = nn.LayerNorm(8)
        self.conv = nn.Conv1d(8, 4, 3, padding=1)
        self.fc = nn.Linear(4, 3)

    def forward(self, t):
        x = self.norm(self.emb(t)).permute(0, 2, 1)
        x = F.gelu(self.conv(x), approximate="tanh")
        m = x.mean(dim=2)
        y = self.fc(m * m).view(1, 3, 1, 1)
        y = F.interpolate(y, scale_factor=2, mode="nearest")
        return torch.flatten(y, 1).softmax(dim=1)


class Foo(nn.Module):
    def forward(self, x):
        return 2 * x + 1


def main(out):
    torch.manual_seed(0)
    os.makedirs(out, exist_ok=True)

    cnn = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8, padding_mode="reflect"),
        nn.Hardswish(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding="same", padding_mode="replicate"),
        nn.PReLU(16),
        nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        nn.LeakyReLU(0.1),
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(16, 8, 3, padding=1, padding_mode="circular"),
        nn.ELU(),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU6(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 16),
        nn.GELU(),
        nn.Dropout(0.3),
        nn.Linear(16, 10),
        nn.Softmax(),  # dim=None: PyTorch's implicit dim (1 for a 2-D input)
    )
    condition(cnn, (4, 3, 16, 16))
    torch.save(cnn, os.path.join(out, "seq_cnn.pth"))
    save_io(out, "seq_cnn", cnn, torch.randn(1, 3, 16, 16))

    mlp = nn.Sequential(
        nn.Linear(8, 16), nn.SiLU(), nn.LayerNorm(16), nn.Tanh(), nn.Linear(16, 6), nn.BatchNorm1d(6),
        nn.Hardsigmoid(), nn.Identity(), nn.Sigmoid(), nn.LogSoftmax(dim=1),
    )
    condition(mlp, (4, 8))
    torch.save(mlp, os.path.join(out, "seq_mlp_legacy.pt"), _use_new_zipfile_serialization=False)
    save_io(out, "seq_mlp_legacy", mlp, torch.randn(1, 8))

    up = nn.Sequential(
        nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), nn.Conv2d(6, 2, 1), nn.Tanh(),
    )
    torch.save(up, os.path.join(out, "convtranspose.pth"))
    save_io(out, "convtranspose", up, torch.randn(1, 4, 5, 5))

    c1 = nn.Sequential(
        nn.Conv1d(4, 8, 3, padding=1, padding_mode="replicate"), nn.ReLU6(), nn.Conv1d(8, 8, 3, dilation=2, groups=4),
        nn.Flatten(), nn.Linear(8 * 8, 3),
    )
    torch.save(c1, os.path.join(out, "conv1d.pth"))
    save_io(out, "conv1d", c1, torch.randn(1, 4, 12))

    net = Net()
    condition(net, (2, 3, 8, 8))
    torch.save(net, os.path.join(out, "custom_root.pth"))
    torch.save(net.state_dict(), os.path.join(out, "custom_root_state_dict.pt"))
    save_io(out, "custom_root", net, torch.randn(1, 3, 8, 8))

    # Every storage dtype, views with offsets and strides, shared storage.
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8 - 1
    sd = {
        "f32": base,
        "f64": base.double(),
        "f16": base.half(),
        "bf16": base.bfloat16(),
        "i8": (base * 8).to(torch.int8),
        "u8": (base * 8 + 8).to(torch.uint8),
        "i16": (base * 8).to(torch.int16),
        "i32": (base * 8).to(torch.int32),
        "i64": (base * 8).to(torch.int64),
        "bool": base > 0,
        "transposed": base.t(),
        "offset_view": base[1:3, 2:5],
        "strided": base[:, ::2],
    }
    torch.save(sd, os.path.join(out, "dtypes.pt"))
    torch.save(sd, os.path.join(out, "dtypes_legacy.pt"), _use_new_zipfile_serialization=False)
    np.savez(os.path.join(out, "dtypes.npz"), **{k: v.float().numpy() if v.dtype == torch.bfloat16 else v.numpy() for k, v in sd.items()})

    tok = Tokens().eval()
    torch.save(tok.state_dict(), os.path.join(out, "tokens_state_dict.pt"))
    save_io(out, "tokens", tok, torch.tensor([[1, 4, 9, 0, 4, 7]], dtype=torch.int32))

    ad = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d((3, 5)), nn.ReLU(), nn.AdaptiveMaxPool2d((2, None)), nn.Flatten(), nn.Linear(4 * 2 * 5, 3))
    torch.save(ad, os.path.join(out, "adaptive.pth"))
    save_io(out, "adaptive", ad, torch.randn(1, 3, 9, 10))

    torch.jit.script(Foo()).save(os.path.join(out, "script.pt"))

    small = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3), nn.LogSoftmax(dim=1))
    condition(small, (4, 3, 8, 8))
    x = torch.randn(1, 3, 8, 8)
    ep = torch.export.export(small, (x,))
    torch.export.save(ep, os.path.join(out, "export_cnn.pt2"))
    save_io(out, "export_cnn", small, x)

    # The same kind of model decomposed to core ATen: convolution, addmm of a permuted weight,
    # max_pool2d_with_indices + getitem, clamp, div (Hardswish), _log_softmax.
    core = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 3), nn.Hardswish(), nn.LogSoftmax(dim=1))
    condition(core, (4, 3, 8, 8))
    x = torch.randn(1, 3, 8, 8)
    torch.export.save(torch.export.export(core, (x,)).run_decompositions(), os.path.join(out, "export_core.pt2"))
    save_io(out, "export_core", core, x)
