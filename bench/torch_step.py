#!/usr/bin/python3
"""The NBM training step in PyTorch, as the official implementation computes it (docs/model.md), timed by phase.

Written for `bench/step.ts` (which runs it side by side with nbm's own step) from docs/model.md's math: the three
networks, the k-step block-Gibbs chain from y = mu under no_grad, the CD loss mean F(y) - mean F(y_model),
backward, and AdamW with one parameter group per network. Prints one JSON object on stdout:
  {"torch": version, "threads": n, "step_ms": [...], "cpu_ms": [...] (process CPU time per step, all threads),
   "phases_ms": {phase: [...]}, "sample_ms": [...], "median_step_ms": m}

Usage: /usr/bin/python3 bench/torch_step.py [--steps N] [--threads T] [--mnist DIR] [--sample-rows M] [--device cuda]
(--device cuda: on the GPU, with torch.cuda.synchronize() before every clock reading, so phases are the GPU's.)
"""
import argparse
import json
import math
import os
import struct
import time

import torch
from torch import nn


def mlp(nx, ny, width, tanh):
    layers = [nn.Linear(nx, width), nn.ReLU(), nn.Linear(width, ny)]
    if tanh:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class NBM(nn.Module):
    def __init__(self, nx, ny, nh, width, visible):
        super().__init__()
        self.ny, self.nh, self.visible = ny, nh, visible
        self.bias_net = mlp(nx, ny, width, visible == "ising")
        self.precision_net = mlp(nx, ny, width, False)
        self.weights_net = nn.Linear(nx, ny * nh)

    def conditionals(self, x):
        mu = self.bias_net(x)
        precision = self.precision_net(x).clip(math.log(1e-3), math.log(1e3)).exp()
        weights = self.weights_net(x).reshape(-1, self.ny, self.nh) / math.sqrt(self.ny)
        return mu, precision, weights

    @staticmethod
    def free_energy(y, mu, precision, weights):
        d = y - mu
        z = torch.bmm(d.unsqueeze(1), weights).squeeze(1)
        logcosh = z - math.log(2.0) + torch.nn.functional.softplus(-2.0 * z)
        return 0.5 * (d * precision * d).sum(-1) - logcosh.sum(-1)

    @torch.no_grad()
    def chain(self, mu, precision, weights, k, denoise=False):
        y = mu.clone()
        h = None
        for _ in range(max(1, k)):
            z = torch.bmm((y - mu).unsqueeze(1), weights).squeeze(1)
            h = 2.0 * torch.bernoulli(torch.sigmoid(2.0 * z)) - 1.0
            y = self.visible_given(h, mu, precision, weights, denoise=False)
        if denoise:
            y = self.visible_given(h, mu, precision, weights, denoise=True)
        return y

    def visible_given(self, h, mu, precision, weights, denoise):
        field = torch.bmm(weights, h.unsqueeze(2)).squeeze(2)
        if self.visible == "gaussian":
            y = mu + field / precision
            return y if denoise else y + torch.randn_like(mu) / precision.sqrt()
        p = torch.sigmoid(2.0 * (precision * mu + field))
        return torch.tanh(p) if denoise else 2.0 * torch.bernoulli(p) - 1.0


def read_idx(path, count):
    with open(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        dims = [struct.unpack(">I", f.read(4))[0] for _ in range(magic & 0xFF)]
        size = 1
        for d in dims[1:]:
            size *= d
        data = f.read(count * size)
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(count, size)


def batch(args, ny, nx):
    """The first B training images (MNIST if found, else synthetic strokes) and their one-hot labels."""
    images = os.path.join(args.mnist or "", "train-images-idx3-ubyte")
    if args.mnist and os.path.exists(images):
        pixels = read_idx(images, args.batch).float() / 255.0
        labels = read_idx(os.path.join(args.mnist, "train-labels-idx1-ubyte"), args.batch).long().reshape(-1)
    else:
        g = torch.Generator().manual_seed(1)
        pixels = (torch.rand(args.batch, ny, generator=g) > 0.8).float()
        labels = torch.arange(args.batch) % nx
    x = torch.nn.functional.one_hot(labels, nx).float()
    return x, pixels


def median(v):
    s = sorted(v)
    return s[len(s) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--mnist", default="")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--visible", default="gaussian")
    ap.add_argument("--sample-rows", type=int, default=1000)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def clock():
        sync()
        return time.perf_counter()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    nx, ny, nh, width = 10, 784, 64, 32
    model = NBM(nx, ny, nh, width, args.visible).to(device)
    lr = 5e-4 if args.visible == "gaussian" else 1e-2
    opt = torch.optim.AdamW(
        [
            {"params": model.bias_net.parameters(), "weight_decay": 0.5},
            {"params": model.precision_net.parameters(), "weight_decay": 0.5},
            {"params": model.weights_net.parameters(), "weight_decay": 1.0},
        ],
        lr=lr,
    )
    x, pixels = (t.to(device) for t in batch(args, ny, nx))
    phases = {"data": [], "networks": [], "chain": [], "energies": [], "backprop": [], "optimiser": []}
    steps = []
    cpu = []
    for step in range(args.steps + 2):  # two warm-up steps
        c0 = time.process_time()
        t0 = clock()
        if args.visible == "gaussian":
            y = 2.0 * pixels - 1.0 + 1e-3 * torch.randn_like(pixels)
        else:
            y = 2.0 * torch.bernoulli(pixels.clamp(1e-3, 1 - 1e-3)) - 1.0
        t1 = clock()
        mu, precision, weights = model.conditionals(x)
        t2 = clock()
        y_model = model.chain(mu, precision, weights, args.k)
        t3 = clock()
        loss = (model.free_energy(y, mu, precision, weights) - model.free_energy(y_model, mu, precision, weights)).mean()
        t4 = clock()
        opt.zero_grad()
        loss.backward()
        t5 = clock()
        opt.step()
        t6 = clock()
        if step >= 2:
            for name, a, b in [("data", t0, t1), ("networks", t1, t2), ("chain", t2, t3), ("energies", t3, t4), ("backprop", t4, t5), ("optimiser", t5, t6)]:
                phases[name].append((b - a) * 1e3)
            steps.append((t6 - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
    sample = []
    if args.sample_rows > 0:
        xs = torch.nn.functional.one_hot(torch.arange(args.sample_rows) % nx, nx).float().to(device)
        with torch.no_grad():
            for _ in range(3):
                t0 = clock()
                mu, precision, weights = model.conditionals(xs)
                model.chain(mu, precision, weights, args.k)
                sample.append((clock() - t0) * 1e3)
    print(json.dumps({
        "torch": torch.__version__,
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "threads": torch.get_num_threads(),
        "step_ms": steps,
        "cpu_ms": cpu,
        "phases_ms": phases,
        "sample_ms": sample,
        "sample_rows": args.sample_rows,
        "median_step_ms": median(steps),
    }))


if __name__ == "__main__":
    main()
