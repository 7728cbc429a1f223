"""diffusers' Stable Video Diffusion UNet on PyTorch, for the `published` bench to time beside Longshot's.

Builds UNetSpatioTemporalConditionModel with its class defaults (the published config) and random weights, runs
CALLS forward passes on FRAMES frames of SIZE x SIZE latents (batch 1, no gradients) and prints one JSON line: the
seconds of each call and the peak resident memory. Run by bench/Longshot.Bench (case `published`) when REF_PY is
set (source ../shared/reference/env.sh); its OpenBLAS settings are the caller's to choose.

    $REF_PY tools/svd_unet_torch.py FRAMES SIZE CALLS
"""
import json
import resource
import sys
import time

import torch
from diffusers import UNetSpatioTemporalConditionModel


def main():
    frames, size, calls = (int(a) for a in sys.argv[1:4])
    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel().eval()
    sample = torch.randn(1, frames, 8, size, size)
    context = torch.randn(1, 1, 1024)
    ids = torch.tensor([[6.0, 127.0, 0.02]])
    seconds = []
    with torch.no_grad():
        for _ in range(calls):
            start = time.perf_counter()
            unet(sample, torch.tensor([0.25 * 3.0]), context, ids)
            seconds.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "threads": torch.get_num_threads(),
                      "parameters": sum(p.numel() for p in unet.parameters())}))


if __name__ == "__main__":
    main()
