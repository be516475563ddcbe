import torch
from torch import nn

HIDDEN = [64, 32]


class MLP(nn.Module):
    def __init__(self, in_dim=784, hidden=HIDDEN, n_out=10, act='relu'):
        super().__init__()
        dims = [in_dim] + hidden
        self.layers = nn.ModuleList([nn.Linear(dims[i], dims[i + 1]) for i in range(len(hidden))])
        self.norms = nn.ModuleList([nn.BatchNorm1d(h) for h in hidden])
        self.head = nn.Linear(hidden[-1], n_out)
        self.act = act

    def forward(self, x):
        x = x.view(x.size(0), -1)
        for layer, norm in zip(self.layers, self.norms):
            x = layer(x)
            x = norm(x)
            if self.act == 'relu':
                x = torch.relu(x)
            else:
                x = torch.tanh(x)
        return self.head(x)
