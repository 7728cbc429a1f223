"""Golden fixtures for the text-to-video schedulers (issue: text-to-video from published files).

diffusers v0.25's DDIMScheduler (as ModelScope's text-to-video-ms-1.7b and zeroscope ship it) and
DPMSolverMultistepScheduler (built from that config, as Video-Infinity and users switch to it: dpmsolver++ and
sde-dpmsolver++, with and without Karras sigmas), each walked through a whole schedule on random model outputs:
the timesteps, the sigmas, and the sample after every step, with the noise the stochastic solver drew. Written to
tests/Longshot.Diffusion.Tests/Golden/t2v/schedulers/.

    source ../shared/reference/env.sh && $REF_PY tools/make_t2v_scheduler_golden.py
"""
import json
import os
import sys

import torch
from diffusers import DDIMScheduler, DPMSolverMultistepScheduler
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(__file__), "..", "tests", "Longshot.Diffusion.Tests", "Golden", "t2v",
                    "schedulers")

# ModelScope's scheduler_config.json (damo-vilab/text-to-video-ms-1.7b).
MODELSCOPE = {"_class_name": "DDIMScheduler", "_diffusers_version": "0.15.0.dev0", "beta_end": 0.012,
              "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False,
              "num_train_timesteps": 1000, "prediction_type": "epsilon", "set_alpha_to_one": False,
              "skip_prk_steps": True, "steps_offset": 1, "trained_betas": None}

CASES = {
    "ddim_8": ("ddim", {}, 8),
    "ddim_25": ("ddim", {}, 25),
    "ddim_trailing_10": ("ddim", {"timestep_spacing": "trailing"}, 10),
    "dpm_8": ("dpm", {}, 8),
    "dpm_25": ("dpm", {}, 25),
    "dpm_karras_12": ("dpm", {"use_karras_sigmas": True}, 12),
    "sde_karras_8": ("dpm", {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True}, 8),
    "sde_20": ("dpm", {"algorithm_type": "sde-dpmsolver++"}, 20),
    "dpm_v_leading_10": ("dpm", {"prediction_type": "v_prediction", "timestep_spacing": "leading"}, 10),
}


def walk(kind, overrides, steps, seed):
    if kind == "ddim":
        config = {**MODELSCOPE, **overrides}
        scheduler = DDIMScheduler.from_config(config)
    else:
        config = {**MODELSCOPE, **overrides, "_class_name": "DPMSolverMultistepScheduler"}
        scheduler = DPMSolverMultistepScheduler.from_config(config)
    scheduler.set_timesteps(steps)
    g = torch.Generator().manual_seed(seed)
    sample = torch.randn(2, 4, 3, 5, 6, generator=g)
    tensors = {"sample_0": sample.clone()}
    noise_g = torch.Generator().manual_seed(seed + 1)
    for i, t in enumerate(scheduler.timesteps):
        out = torch.randn(sample.shape, generator=g) * 0.8 + 0.1 * sample
        tensors[f"model_output_{i}"] = out
        state = noise_g.get_state()
        sample = scheduler.step(out, t, sample, generator=noise_g).prev_sample
        if kind == "dpm" and "sde" in config.get("algorithm_type", ""):
            # The noise this step drew: the same draw again from the saved generator state.
            replay = torch.Generator().manual_seed(0)
            replay.set_state(state)
            tensors[f"noise_{i}"] = torch.randn(out.shape, generator=replay, dtype=out.dtype)
        tensors[f"sample_{i + 1}"] = sample.clone()
    record = {"config": {k: v for k, v in config.items()}, "steps": steps,
              "timesteps": [int(t) for t in scheduler.timesteps]}
    if kind == "dpm":
        record["sigmas"] = [float(s) for s in scheduler.sigmas]
    return record, tensors


def main():
    os.makedirs(ROOT, exist_ok=True)
    for i, (name, (kind, overrides, steps)) in enumerate(CASES.items()):
        record, tensors = walk(kind, overrides, steps, 100 + i)
        with open(os.path.join(ROOT, name + ".json"), "w") as f:
            json.dump(record, f, indent=1)
        save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(ROOT, name + ".safetensors"))
        print(name, record["timesteps"][:4], "...")


if __name__ == "__main__":
    sys.exit(main())
