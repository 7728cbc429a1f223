#!/usr/bin/env python3
"""PyTorch side of the refnet benchmark (the engine issue's reference network), for side-by-side timing.

Run with Debian's python3-torch:  /usr/bin/python3 tools/refnet_torch.py [--threads 2]
Prints JSON lines like the bench program: ms per training step and per forward without gradients,
plus conv 3x3 forward/backward GFLOP/s on the conv bench's shape.
"""
import argparse, json, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c, frames):
        super().__init__()
        self.frames = frames
        self.norm1 = nn.GroupNorm(8, c)
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.tconv = nn.Conv1d(c, c, 3, padding=1)
        self.norm2 = nn.GroupNorm(8, c)
        self.spatial_attn = nn.MultiheadAttention(c, 4, batch_first=True)
        self.temporal_attn = nn.MultiheadAttention(c, 4, batch_first=True)

    def forward(self, x):
        n, c, h, w = x.shape
        b, l, hw = n // self.frames, self.frames, h * w
        y = self.conv(F.silu(self.norm1(x)))
        t = y.reshape(b, l, c, hw).permute(0, 3, 2, 1).reshape(b * hw, c, l)
        t = self.tconv(t).reshape(b, hw, c, l).permute(0, 3, 2, 1).reshape(n, c, h, w)
        x = x + t
        z = self.norm2(x).reshape(n, c, hw).transpose(1, 2)
        z = z + self.spatial_attn(z, z, z, need_weights=False)[0]
        zt = z.reshape(b, l, hw, c).transpose(1, 2).reshape(b * hw, l, c)
        zt = zt + self.temporal_attn(zt, zt, zt, need_weights=False)[0]
        return zt.reshape(b, hw, l, c).transpose(1, 2).reshape(n, hw, c).transpose(1, 2).reshape(n, c, h, w)


class RefNet(nn.Module):
    def __init__(self, c=64, frames=16):
        super().__init__()
        self.conv_in = nn.Conv2d(4, c, 3, padding=1)
        self.block1 = Block(c, frames)
        self.down = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)
        self.block2 = Block(2 * c, frames)
        self.up = nn.ConvTranspose2d(2 * c, c, 2, stride=2)
        self.block3 = Block(c, frames)
        self.conv_out = nn.Conv2d(c, 4, 3, padding=1)

    def forward(self, x):
        h1 = self.block1(self.conv_in(x))
        h = self.block2(self.down(h1))
        h = self.up(h) + h1
        return self.conv_out(self.block3(h))


def timeit(f, min_seconds=3.0, warmup=2):
    for _ in range(warmup):
        f()
    times, start = [], time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def emit(bench, case, value, unit):
    print(json.dumps({"bench": bench, "case": case, "backend": f"pytorch-{torch.__version__}", "value": round(value, 3), "unit": unit}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    net = RefNet()
    x = torch.randn(32, 4, 16, 16)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4, weight_decay=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(net(x), x)
        loss.backward()
        opt.step()

    emit("refnet", "train step (fwd+bwd+AdamW)", timeit(step, 5) * 1e3, "ms")
    with torch.no_grad():
        emit("refnet", "forward (no grad)", timeit(lambda: net(x)) * 1e3, "ms")

    xc = torch.randn(32, 128, 32, 32, requires_grad=True)
    w = torch.randn(128, 128, 3, 3, requires_grad=True)
    b = torch.randn(128, requires_grad=True)
    flops = 2.0 * 32 * 128 * 128 * 9 * 32 * 32
    with torch.no_grad():
        s = timeit(lambda: F.conv2d(xc, w, b, padding=1), 2)
    emit("conv", "3x3 N=32 C=128 32x32 forward", flops / s / 1e9, "GFLOP/s")
    y = F.conv2d(xc, w, b, padding=1)
    g = torch.ones_like(y)
    s = timeit(lambda: torch.autograd.grad(y, [xc, w, b], g, retain_graph=True), 2)
    emit("conv", "3x3 N=32 C=128 32x32 backward", 2 * flops / s / 1e9, "GFLOP/s")


if __name__ == "__main__":
    main()
