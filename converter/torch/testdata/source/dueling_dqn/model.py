import random

import torch
import torch.nn as nn


class DuelingDQN(nn.Module):
    """Q(s, a) = V(s) + A(s, a) - mean_a A(s, a)."""

    def __init__(self, state_dim, n_actions, hidden=64):
        super(DuelingDQN, self).__init__()
        self.feature = nn.Sequential(
            nn.Linear(state_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
        )
        self.value = nn.Sequential(nn.Linear(hidden, 32), nn.ReLU(), nn.Linear(32, 1))
        self.advantage = nn.Sequential(nn.Linear(hidden, 32), nn.ReLU(), nn.Linear(32, n_actions))

    def forward(self, state):
        features = self.feature(state)
        value = self.value(features)
        advantages = self.advantage(features)
        q = value + advantages - advantages.mean(dim=1, keepdim=True)
        return q

    def act(self, state, epsilon):
        if random.random() > epsilon:
            with torch.no_grad():
                return self.forward(state).max(1)[1].item()
        return random.randrange(self.advantage[-1].out_features)
