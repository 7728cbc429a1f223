#!/usr/bin/env python3
"""Writes golden tensors for the engine's op tests (forward and backward against PyTorch).

Run with Debian's python3-torch:  /usr/bin/python3 tools/make_golden.py
Output: tests/Longshot.Tensors.Tests/Golden/ops.safetensors (committed; tests need no Python).
Each case NAME stores NAME.in0.., NAME.out, NAME.gout (upstream gradient) and NAME.gin0.. (input
gradients); references are computed in float64 and stored as float32.
"""
import json, os
import torch
import torch.nn.functional as F

from safetensors_io import write

torch.manual_seed(1234)
D = torch.float64
tensors = {}
meta = {}


def r(*shape, lo=None):
    t = torch.randn(*shape, dtype=D)
    if lo is not None:
        t = t.abs() + lo
    return t


def case(name, fn, inputs, params=None, grad=True):
    ins = [t.clone().requires_grad_(grad) for t in inputs]
    out = fn(*ins)
    for i, t in enumerate(inputs):
        tensors[f"{name}.in{i}"] = t
    tensors[f"{name}.out"] = out.detach()
    if grad:
        gout = torch.randn_like(out)
        grads = torch.autograd.grad(out, ins, gout, allow_unused=True)
        tensors[f"{name}.gout"] = gout
        for i, g in enumerate(grads):
            if g is not None:
                tensors[f"{name}.gin{i}"] = g
    meta[name] = json.dumps(params or {})


# elementwise and broadcasting
case("add_bcast", lambda a, b: a + b, [r(3, 1, 5), r(4, 5)])
case("sub_bcast", lambda a, b: a - b, [r(2, 3, 4, 5), r(1, 3, 1, 1)])
case("mul_bcast", lambda a, b: a * b, [r(2, 3, 4, 5), r(1, 3, 1, 1)])
case("div", lambda a, b: a / b, [r(7, 9), r(7, 9, lo=0.5)])
case("exp", torch.exp, [r(5, 37)])
case("log", torch.log, [r(5, 37, lo=0.1)])
case("sqrt", torch.sqrt, [r(5, 37, lo=0.1)])
case("rsqrt", torch.rsqrt, [r(5, 37, lo=0.1)])
case("tanh", torch.tanh, [r(5, 37)])
case("sigmoid", torch.sigmoid, [r(5, 37)])
case("silu", F.silu, [r(5, 37)])
case("gelu", F.gelu, [r(5, 37) * 2])
case("pow", lambda x: x ** 3.0, [r(4, 9)])

# reductions
case("sum_dims", lambda x: x.sum(dim=(0, 2)), [r(3, 4, 5)])
case("mean_keep", lambda x: x.mean(dim=1, keepdim=True), [r(3, 4, 5)])
case("max_dim", lambda x: x.max(dim=2).values, [r(3, 4, 5)])
case("softmax", lambda x: torch.softmax(x, dim=1), [r(3, 7, 5)])
case("log_softmax", lambda x: torch.log_softmax(x, dim=-1), [r(3, 7, 5)])

# matrix products
case("matmul_batched", lambda a, b: a @ b, [r(2, 3, 5, 7), r(2, 3, 7, 4)])
case("matmul_shared", lambda a, b: a @ b, [r(2, 5, 7), r(7, 3)])
case("matmul_bcast", lambda a, b: a @ b, [r(2, 1, 5, 7), r(3, 7, 4)])
case("linear", lambda x, w, b: F.linear(x, w, b), [r(4, 6, 13), r(11, 13), r(11)])
case("matmul_large", lambda a, b: a @ b, [r(67, 131), r(131, 45)])

# convolutions
case("conv1d", lambda x, w, b: F.conv1d(x, w, b, padding=1), [r(2, 3, 17), r(5, 3, 3), r(5)])
case("conv1d_reflect", lambda x, w, b: F.conv1d(F.pad(x, (1, 1), mode="reflect"), w, b), [r(2, 3, 17), r(5, 3, 3), r(5)])
case("conv2d_s2", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [r(2, 3, 11, 9), r(4, 3, 3, 3), r(4)])
case("conv2d_1x1", lambda x, w, b: F.conv2d(x, w, b), [r(3, 5, 6, 7), r(7, 5, 1, 1), r(7)])
case("conv2d_big", lambda x, w, b: F.conv2d(x, w, b, padding=1), [r(2, 19, 23, 21), r(17, 19, 3, 3), r(17)])
case("conv3d", lambda x, w, b: F.conv3d(x, w, b, padding=1), [r(1, 2, 5, 6, 7), r(3, 2, 3, 3, 3), r(3)])
case("conv3d_time", lambda x, w, b: F.conv3d(x, w, b, padding=(1, 0, 0)), [r(2, 4, 6, 3, 5), r(4, 4, 3, 1, 1), r(4)])
case("convt2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2), [r(2, 4, 5, 6), r(4, 3, 2, 2), r(3)])
case("convt2d_k3", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1), [r(2, 4, 5, 6), r(4, 3, 3, 3), r(3)])
case("upsample2x", lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), [r(2, 3, 4, 5)])
case("avgpool2", lambda x: F.avg_pool2d(x, 2), [r(2, 3, 6, 8)])

# normalisation
case("group_norm", lambda x, g, b: F.group_norm(x, 3, g, b, eps=1e-5), [r(2, 6, 5, 7), r(6), r(6)])
case("group_norm_silu", lambda x, g, b: F.silu(F.group_norm(x, 2, g, b, eps=1e-6)), [r(2, 6, 5, 7) * 3 + 1, r(6), r(6)])
case("layer_norm", lambda x, g, b: F.layer_norm(x, (17,), g, b, eps=1e-5), [r(3, 5, 17), r(17), r(17)])

# shape ops
case("pad_reflect", lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"), [r(2, 3, 5, 6)])
case("pad_constant", lambda x: F.pad(x, (1, 2, 0, 3), value=0.5), [r(2, 3, 5, 6)])
case("repeat", lambda x: x.repeat(2, 1, 3), [r(2, 3, 4)])
case("concat", lambda a, b: torch.cat([a, b], dim=1), [r(2, 3, 4), r(2, 5, 4)])
case("permute_narrow", lambda x: x.permute(2, 0, 1)[1:3] * 2, [r(3, 4, 5)])


# attention (reference computed explicitly)
def attn(q, k, v, bias=None, mask=None):
    s = q @ k.transpose(-1, -2) / (q.shape[-1] ** 0.5)
    if bias is not None:
        s = s + bias
    if mask is not None:
        s = s.masked_fill(mask == 0, float("-inf"))
    return torch.softmax(s, -1) @ v


case("attention", lambda q, k, v: attn(q, k, v), [r(2, 3, 37, 16), r(2, 3, 45, 16), r(2, 3, 45, 8)])
case("attention_bias", lambda q, k, v, b: attn(q, k, v, bias=b), [r(1, 2, 29, 8), r(1, 2, 29, 8), r(1, 2, 29, 8), r(2, 29, 29)])
mask = (torch.rand(300, 300) > 0.3).to(D)
mask[:, 0] = 1
tensors["attention_long_mask.mask"] = mask
case("attention_long_mask", lambda q, k, v: attn(q, k, v, mask=mask), [r(1, 2, 300, 32), r(1, 2, 300, 32), r(1, 2, 300, 24)])

# torch.nn.MultiheadAttention (batch first) with its parameters as inputs
def mha(x, w_in, b_in, w_out, b_out):
    q = x.transpose(0, 1)
    y, _ = F.multi_head_attention_forward(q, q, q, 8, 2, w_in, b_in, None, None, False, 0.0, w_out, b_out,
                                          training=False, need_weights=False)
    return y.transpose(0, 1)


case("torch_mha", mha, [r(3, 7, 8), r(24, 8) * 0.3, r(24) * 0.1, r(8, 8) * 0.3, r(8) * 0.1])

# losses
case("mse", lambda a, b: F.mse_loss(a, b), [r(4, 33), r(4, 33)])
case("kl_std", lambda m, lv: 0.5 * torch.sum(m * m + lv.exp() - 1 - lv), [r(3, 7), r(3, 7) * 0.3])

# embedding (float ids stored; the test casts to int)
ids = torch.tensor([[3, 0, 7], [7, 2, 3]])
tensors["embedding.ids"] = ids.to(D)
case("embedding", lambda w: F.embedding(ids, w), [r(9, 5)])


# optimizers: three steps on fixed gradients
def optim_case(name, make):
    p0 = torch.randn(5, 7, dtype=D)
    grads = [torch.randn(5, 7, dtype=D) for _ in range(3)]
    p = p0.clone().requires_grad_(True)
    opt = make([p])
    for g in grads:
        opt.zero_grad()
        p.grad = g.clone()
        opt.step()
    tensors[f"{name}.p0"] = p0
    for i, g in enumerate(grads):
        tensors[f"{name}.g{i}"] = g
    tensors[f"{name}.p3"] = p.detach()


optim_case("adamw", lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1))
optim_case("sgd", lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01))


out = os.path.join(os.path.dirname(__file__), "..", "tests", "Longshot.Tensors.Tests", "Golden")
os.makedirs(out, exist_ok=True)
write(os.path.join(out, "ops.safetensors"), tensors, meta)
print(f"wrote {len(tensors)} tensors for {len(meta)} cases")
