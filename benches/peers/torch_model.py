"""The az ResNet in PyTorch on the CPU: inference positions/s and training samples/s.

Same architecture as crates/model (stem 3x3 conv without bias + BN + ReLU;
residual blocks of two such convs; policy head 1x1 conv to 2 planes + BN + ReLU
-> linear; value head 1x1 conv to --value-channels planes + BN + ReLU -> linear -> ReLU ->
linear -> tanh), same loss (soft-target cross-entropy over legal moves + value
MSE) and AdamW. Prints one JSON line. Not a CI dependency:

    /tmp/az-peers/bin/pip install torch
    /tmp/az-peers/bin/python benches/peers/torch_model.py --blocks 3 --channels 32
"""

import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBn(nn.Module):
    def __init__(self, inp, out, k):
        super().__init__()
        self.conv = nn.Conv2d(inp, out, k, padding=k // 2, bias=False)
        self.bn = nn.BatchNorm2d(out)

    def forward(self, x):
        return self.bn(self.conv(x))


class Net(nn.Module):
    def __init__(self, planes, h, w, actions, blocks, channels, hidden, value_channels):
        super().__init__()
        self.stem = ConvBn(planes, channels, 3)
        self.blocks = nn.ModuleList(
            nn.ModuleList([ConvBn(channels, channels, 3), ConvBn(channels, channels, 3)]) for _ in range(blocks))
        self.pconv = ConvBn(channels, 2, 1)
        self.pfc = nn.Linear(2 * h * w, actions)
        self.vconv = ConvBn(channels, value_channels, 1)
        self.vfc1 = nn.Linear(value_channels * h * w, hidden)
        self.vfc2 = nn.Linear(hidden, 1)

    def forward(self, x):
        x = F.relu(self.stem(x))
        for a, b in self.blocks:
            x = F.relu(b(F.relu(a(x))) + x)
        n = x.shape[0]
        p = self.pfc(F.relu(self.pconv(x)).reshape(n, -1))
        v = F.relu(self.vconv(x)).reshape(n, -1)
        v = torch.tanh(self.vfc2(F.relu(self.vfc1(v)))).reshape(n)
        return p, v


def rate(fn, n, seconds):
    fn()
    t0 = time.perf_counter()
    done = 0
    while done == 0 or time.perf_counter() - t0 < seconds:
        fn()
        done += n
    return done / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser()
    for k, v in (("planes", 3), ("height", 6), ("width", 7), ("actions", 7), ("blocks", 3),
                 ("channels", 32), ("value-hidden", 64), ("value-channels", 1), ("batch", 256),
                 ("threads", 2)):
        p.add_argument("--" + k, type=int, default=v)
    p.add_argument("--seconds", type=float, default=5.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = Net(a.planes, a.height, a.width, a.actions, a.blocks, a.channels, a.value_hidden,
              a.value_channels)
    n = a.batch
    x = (torch.rand(n, a.planes, a.height, a.width) < 0.5).float()
    mask = torch.ones(n, a.actions)
    pi = torch.full((n, a.actions), 1.0 / a.actions)
    z = torch.tensor([1.0 if i % 2 == 0 else -1.0 for i in range(n)])

    net.eval()

    def infer():
        with torch.inference_mode():
            logits, v = net(x)
            torch.softmax(logits + (mask - 1) * 1e9, 1)
            return v

    inference = rate(infer, n, a.seconds)

    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)

    def step():
        logits, v = net(x)
        logp = torch.log_softmax(logits + (mask - 1) * 1e9, 1)
        loss = -(pi * logp).sum(1).mean() + ((v - z) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    train = rate(step, n, a.seconds)
    print(json.dumps({"bench": "torch_model", "torch": torch.__version__, "threads": a.threads, "batch": n,
                      "blocks": a.blocks, "channels": a.channels,
                      "inference_positions_per_sec": inference, "train_samples_per_sec": train}))


if __name__ == "__main__":
    main()
