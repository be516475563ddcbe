"""Two .pt2 files in torch 2.3's archive layout (serialized_exported_program.json, serialized_state_dict.pt,
serialized_constants.pt), for converter/torch's TestExportTorch23.

torch 2.3 cannot share a venv with the pinned torch; make its own:
  python3.11 -m venv /tmp/torch23-venv && /tmp/torch23-venv/bin/pip install torch==2.3.1 "numpy<2"
  /tmp/torch23-venv/bin/python gen_torch23.py ../../converter/torch/testdata

  export_t23_bn1d.pt2  Linear -> BatchNorm1d (eval, perturbed running statistics and affine terms) -> ReLU -> Linear:
                       parameters and persistent buffers (running_mean, running_var, num_batches_tracked)
                       in serialized_state_dict.pt
  export_t23_nonpersistent.pt2  the same with a non-persistent buffer multiplying the output (torch 2.3 stores it
                       in serialized_constants.pt)
Each NAME.pt2 has NAME.npz with `input` (2x6) and `output`, PyTorch's result.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, nonpersistent):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.bn = nn.BatchNorm1d(8)
        self.fc2 = nn.Linear(8, 3)
        self.nonpersistent = nonpersistent
        if nonpersistent:
            self.register_buffer("scale", torch.rand(3) + 0.5, persistent=False)

    def forward(self, x):
        y = self.fc2(torch.relu(self.bn(self.fc1(x))))
        return y * self.scale if self.nonpersistent else y


def main(out):
    for name, nonpersistent in [("export_t23_bn1d", False), ("export_t23_nonpersistent", True)]:
        torch.manual_seed(23)
        m = Net(nonpersistent)
        with torch.no_grad():
            m.bn.running_mean.normal_(0, 0.3)
            m.bn.running_var.uniform_(0.5, 1.5)
            m.bn.weight.uniform_(0.6, 1.4)
            m.bn.bias.normal_(0, 0.2)
            m.bn.num_batches_tracked.fill_(7)
        m.eval()
        x = torch.rand(2, 6) * 2 - 1
        with torch.no_grad():
            y = m(x)
        torch.export.save(torch.export.export(m, (x,)), os.path.join(out, name + ".pt2"))
        np.savez(os.path.join(out, name + ".npz"), input=x.numpy(), output=y.numpy())
        print(name, torch.__version__)


if __name__ == "__main__":
    main(sys.argv[1])
