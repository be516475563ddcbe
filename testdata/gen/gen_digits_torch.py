"""The PyTorch half of gen_digits.py: torch and TensorFlow cannot share a process.

Usage: python gen_digits_torch.py ARRAYS.npz OUT
ARRAYS.npz holds train_x [N,16,16,1] (already x * float32(1/255)), train_y [N] and
test_x (decoded from OUT/test exactly as validate reads it). Trains a small CNN on
NCHW RGB input (the gray digits replicated to 3 channels, as validate's
--color rgb does for a gray image), saves it whole as OUT/model_torch.pth
(torch.save(model): standard containers and layers only), writes its test
logits to OUT/.torch_logits.npy and prints a JSON record. Exit 3 without torch.
"""

import json
import os
import sys

import numpy as np

try:
    import torch
except ImportError:
    print("torch is not installed in this venv")
    sys.exit(3)


def nchw_rgb(x):
    return torch.from_numpy(np.repeat(x.transpose(0, 3, 1, 2), 3, axis=1).copy())


def main():
    arrays, out = sys.argv[1], sys.argv[2]
    a = np.load(arrays)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(16 * 5 * 5, 10))
    tx, ty = nchw_rgb(a["train_x"]), torch.from_numpy(a["train_y"].astype(np.int64))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(6):
        net.train()
        perm = torch.randperm(len(tx), generator=g)
        for b in range(0, len(tx), 32):
            i = perm[b:b + 32]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(tx[i]), ty[i]).backward()
            opt.step()
    net.eval()
    torch.save(net, os.path.join(out, "model_torch.pth"))
    with torch.no_grad():
        logits = net(nchw_rgb(a["test_x"])).numpy()
    np.save(os.path.join(out, ".torch_logits.npy"), logits)
    print(json.dumps({"file": "model_torch.pth", "input": "NCHW [1,3,16,16], the gray image replicated (--color rgb)",
                      "output": "logits", "torch": torch.__version__}))


if __name__ == "__main__":
    main()
