#!/usr/bin/env python3
"""Golden fixture for the AutoencoderKL port: a small VAE in diffusers' architecture and key names, written in
plain PyTorch (diffusers itself is not installable here), random weights, one image batch, its latent mean /
log-variance and the decoding of the mean.

Run with Debian's python3-torch:  /usr/bin/python3 tools/make_vae_golden.py
Output: tests/Longshot.Diffusion.Tests/Golden/vae_small.safetensors (+ config.json beside it).
"""
import json, os
import torch
import torch.nn as nn
import torch.nn.functional as F

from safetensors_io import write

torch.manual_seed(7)
CH, LPB, LAT, G = [32, 64], 1, 4, 32


class Resnet(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1 = nn.GroupNorm(G, cin, eps=1e-6)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(G, cout, eps=1e-6)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class Attn(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.group_norm = nn.GroupNorm(G, c, eps=1e-6)
        self.to_q, self.to_k, self.to_v = nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c)
        self.to_out = nn.ModuleList([nn.Linear(c, c)])

    def forward(self, x):
        n, c, h, w = x.shape
        t = self.group_norm(x).reshape(n, c, h * w).transpose(1, 2)
        q, k, v = self.to_q(t), self.to_k(t), self.to_v(t)
        a = torch.softmax(q @ k.transpose(1, 2) / c ** 0.5, -1) @ v
        return x + self.to_out[0](a).transpose(1, 2).reshape(n, c, h, w)


class Mid(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.resnets = nn.ModuleList([Resnet(c, c), Resnet(c, c)])
        self.attentions = nn.ModuleList([Attn(c)])

    def forward(self, x):
        return self.resnets[1](self.attentions[0](self.resnets[0](x)))


class Down(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Up(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Block(nn.Module):
    def __init__(self, resnets, sampler, key):
        super().__init__()
        self.resnets = nn.ModuleList(resnets)
        if sampler is not None:
            setattr(self, key, nn.ModuleList([sampler]))
        self.key = key if sampler is not None else None

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        return getattr(self, self.key)[0](x) if self.key else x


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_in = nn.Conv2d(3, CH[0], 3, padding=1)
        blocks, prev = [], CH[0]
        for i, c in enumerate(CH):
            rs = [Resnet(prev if j == 0 else c, c) for j in range(LPB)]
            blocks.append(Block(rs, Down(c) if i < len(CH) - 1 else None, "downsamplers"))
            prev = c
        self.down_blocks = nn.ModuleList(blocks)
        self.mid_block = Mid(CH[-1])
        self.conv_norm_out = nn.GroupNorm(G, CH[-1], eps=1e-6)
        self.conv_out = nn.Conv2d(CH[-1], 2 * LAT, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for b in self.down_blocks:
            h = b(h)
        return self.conv_out(F.silu(self.conv_norm_out(self.mid_block(h))))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        rev = list(reversed(CH))
        self.conv_in = nn.Conv2d(LAT, rev[0], 3, padding=1)
        self.mid_block = Mid(rev[0])
        blocks, prev = [], rev[0]
        for i, c in enumerate(rev):
            rs = [Resnet(prev if j == 0 else c, c) for j in range(LPB + 1)]
            blocks.append(Block(rs, Up(c) if i < len(rev) - 1 else None, "upsamplers"))
            prev = c
        self.up_blocks = nn.ModuleList(blocks)
        self.conv_norm_out = nn.GroupNorm(G, rev[-1], eps=1e-6)
        self.conv_out = nn.Conv2d(rev[-1], 3, 3, padding=1)

    def forward(self, z):
        h = self.mid_block(self.conv_in(z))
        for b in self.up_blocks:
            h = b(h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.decoder = Encoder(), Decoder()
        self.quant_conv = nn.Conv2d(2 * LAT, 2 * LAT, 1)
        self.post_quant_conv = nn.Conv2d(LAT, LAT, 1)


vae = VAE().double()
with torch.no_grad():  # non-trivial norms
    for n, p in vae.named_parameters():
        if "norm" in n:
            p.add_(torch.randn_like(p) * 0.1)
x = torch.rand(2, 3, 16, 16, dtype=torch.float64) * 2 - 1
with torch.no_grad():
    moments = vae.quant_conv(vae.encoder(x))
    mean, logvar = moments.chunk(2, 1)
    dec = vae.decoder(vae.post_quant_conv(mean))

tensors = {k: v for k, v in vae.state_dict().items()}
tensors.update({"__x": x, "__mean": mean, "__logvar": logvar, "__decoded": dec})


out = os.path.join(os.path.dirname(__file__), "..", "tests", "Longshot.Diffusion.Tests", "Golden", "vae_small")
os.makedirs(out, exist_ok=True)
write(os.path.join(out, "golden.safetensors"), tensors)
cfg = {"_class_name": "AutoencoderKL", "in_channels": 3, "out_channels": 3, "block_out_channels": CH,
       "layers_per_block": LPB, "latent_channels": LAT, "norm_num_groups": G,
       "down_block_types": ["DownEncoderBlock2D"] * len(CH), "up_block_types": ["UpDecoderBlock2D"] * len(CH)}
with open(os.path.join(out, "config.json"), "w") as f:
    json.dump(cfg, f, indent=2)
print(f"wrote {len(tensors)} tensors")
