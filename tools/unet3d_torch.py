"""diffusers' text-to-video UNet (UNet3DConditionModel, ModelScope's config: the class defaults with sample_size 32)
on PyTorch, for the `unet3d-16f-32x32` bench to time beside Longshot's.

Builds the model with random weights, runs CALLS forward passes on FRAMES frames of SIZE x SIZE latents (batch 1,
77 text tokens, no gradients) and prints one JSON line: the seconds of each call and the peak resident memory. Run by
bench/Longshot.Bench when REF_PY is set (source ../shared/reference/env.sh); its OpenBLAS settings are the caller's.

    $REF_PY tools/unet3d_torch.py FRAMES SIZE CALLS
"""
import json
import resource
import sys
import time

import torch
from diffusers import UNet3DConditionModel


def main():
    frames, size, calls = (int(a) for a in sys.argv[1:4])
    torch.manual_seed(0)
    unet = UNet3DConditionModel(sample_size=32).eval()
    sample = torch.randn(1, 4, frames, size, size)
    context = torch.randn(1, 77, 1024)
    seconds = []
    with torch.no_grad():
        for _ in range(calls):
            start = time.perf_counter()
            unet(sample, 421, encoder_hidden_states=context)
            seconds.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "threads": torch.get_num_threads(),
                      "parameters": sum(p.numel() for p in unet.parameters())}))


if __name__ == "__main__":
    main()
