# Train a small CNN on FashionMNIST and save a checkpoint every epoch.
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

BATCH_SIZE = 64
EPOCHS = 5
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")

transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
train_set = datasets.FashionMNIST("./data", train=True, download=True, transform=transform)
test_set = datasets.FashionMNIST("./data", train=False, download=True, transform=transform)
train_loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True)
test_loader = DataLoader(test_set, batch_size=1000)


def conv_block(c_in, c_out):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class FashionCNN(nn.Module):
    def __init__(self, num_classes=10, width=16, use_bn=True):
        super().__init__()
        self.use_bn = use_bn
        self.stem = nn.Conv2d(1, width, 3, padding=1)
        self.bn = nn.BatchNorm2d(width)
        self.block1 = nn.Sequential(
            nn.Conv2d(width, width * 2, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(width * 2),
            nn.ReLU(inplace=True),
        )
        self.block2 = nn.Sequential(
            nn.Conv2d(width * 2, width * 4, kernel_size=3, stride=2, padding=1),
            nn.LeakyReLU(0.1),
        )
        self.drop = nn.Dropout2d(p=0.2)
        self.gap = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Linear(width * 4, num_classes)

    def forward(self, x):
        x = self.stem(x)
        if self.use_bn:
            x = self.bn(x)
        x = F.relu(x)
        x = F.max_pool2d(x, kernel_size=2, stride=2)
        x = self.block1(x)
        x = self.drop(self.block2(x))
        x = self.gap(x)
        x = x.reshape(x.shape[0], -1)
        logits = self.classifier(x)
        return logits, F.softmax(logits, dim=-1)


def train_one_epoch(model, optimizer, epoch):
    model.train()
    start = time.time()
    for i, (images, labels) in enumerate(train_loader):
        images, labels = images.to(DEVICE), labels.to(DEVICE)
        optimizer.zero_grad()
        logits, _ = model(images)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        optimizer.step()
        if i % 100 == 0:
            print(f"epoch {epoch} step {i} loss {loss.item():.4f} ({time.time() - start:.1f}s)")


@torch.no_grad()
def evaluate(model):
    model.eval()
    correct = 0
    for images, labels in test_loader:
        logits, probs = model(images.to(DEVICE))
        correct += (logits.argmax(1).cpu() == labels).sum().item()
    return correct / len(test_set)


if __name__ == "__main__":
    model = FashionCNN().to(DEVICE)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    os.makedirs("checkpoints", exist_ok=True)
    for epoch in range(EPOCHS):
        train_one_epoch(model, optimizer, epoch)
        scheduler.step()
        acc = evaluate(model)
        print(f"accuracy {acc:.4f}")
        torch.save({"epoch": epoch, "state_dict": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "acc": acc}, f"checkpoints/epoch{epoch}.pth")
