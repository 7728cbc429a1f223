"""Golden fixtures for the text-to-video UNet (issue: text-to-video from published files).

diffusers v0.25's UNet3DConditionModel (ModelScope's text-to-video-ms-1.7b, zeroscope) at small sizes, every weight
random, in its folder layout (config.json and diffusion_pytorch_model[.fp16].safetensors), with one forward call's
inputs and output in NAME.io.safetensors; and VideoCrafter2's variant as Video-Infinity runs it: the same UNet with
an fps embedding (fps_proj, fps_embedding) added to the time embedding after its last layer, with "fps_cond": true
in config.json. Written under tests/Longshot.Diffusion.Tests/Golden/t2v/.

    source ../shared/reference/env.sh && $REF_PY tools/make_unet3d_golden.py
"""
import json
import os
import sys

import torch
from diffusers import UNet3DConditionModel
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
import make_svd_golden  # noqa: E402,F401  (patches diffusers' attention scores for PyTorch 1.13 on the CPU)
from make_svd_golden import randomize  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "tests", "Longshot.Diffusion.Tests", "Golden", "t2v")

CONFIGS = {
    # Two levels, one layer each: every block kind once; 8 "heads" (diffusers reads attention_head_dim as heads).
    "unet3d_tiny": dict(
        config=dict(sample_size=8, in_channels=4, out_channels=4,
                    down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
                    up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), block_out_channels=(32, 64),
                    layers_per_block=1, norm_num_groups=8, cross_attention_dim=24, attention_head_dim=8),
        frames=5, height=8, width=8, fps=None),
    # The published block order at small widths: three levels, two layers, 4 heads, an odd latent size
    # (the up path is told the skips' sizes).
    "unet3d_small": dict(
        config=dict(sample_size=8, in_channels=4, out_channels=4,
                    down_block_types=("CrossAttnDownBlock3D", "CrossAttnDownBlock3D", "DownBlock3D"),
                    up_block_types=("UpBlock3D", "CrossAttnUpBlock3D", "CrossAttnUpBlock3D"),
                    block_out_channels=(32, 32, 64), layers_per_block=2, norm_num_groups=8, cross_attention_dim=16,
                    attention_head_dim=4),
        frames=4, height=7, width=9, fps=None),
    # VideoCrafter2 as Video-Infinity runs it: the tiny UNet with an fps embedding.
    "unet3d_fps": dict(
        config=dict(sample_size=8, in_channels=4, out_channels=4,
                    down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
                    up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), block_out_channels=(32, 64),
                    layers_per_block=1, norm_num_groups=8, cross_attention_dim=24, attention_head_dim=8),
        frames=6, height=8, width=8, fps=24),
}


def add_fps_embedding(unet):
    """VideoCrafter2's fps condition: sinusoidal features of the fps through an MLP, added to the time embedding
    after its last layer (the authors hook TimestepEmbedding.post_act)."""
    c0 = unet.config.block_out_channels[0]
    unet.fps_proj = Timesteps(c0, True, 0)
    unet.fps_embedding = TimestepEmbedding(c0, c0 * 4, act_fn=unet.config.act_fn)


def set_fps(unet, fps):
    def post(sample):
        f = torch.tensor([fps], dtype=torch.float64)
        emb = unet.fps_embedding(unet.fps_proj(f).to(sample.dtype)).repeat_interleave(repeats=sample.shape[0], dim=0)
        return sample + emb
    unet.time_embedding.post_act = post


def write(name, spec, seed):
    torch.manual_seed(seed)
    unet = UNet3DConditionModel(**spec["config"])
    if spec["fps"] is not None:
        add_fps_embedding(unet)
    randomize(unet, seed)
    unet.eval()
    folder = os.path.join(ROOT, name)
    os.makedirs(folder, exist_ok=True)
    config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in dict(unet.config).items()
              if not k.startswith("_")}
    config = {"_class_name": "UNet3DConditionModel", "_diffusers_version": "0.25.0", **config}
    if spec["fps"] is not None:
        config["fps_cond"] = True
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    state = {k: v.detach().contiguous() for k, v in unet.state_dict().items()}
    save_file({k: v.half() for k, v in state.items()}, os.path.join(folder, "diffusion_pytorch_model.fp16.safetensors"))
    if spec["fps"] is None:
        save_file(state, os.path.join(folder, "diffusion_pytorch_model.safetensors"))
    else:
        set_fps(unet, spec["fps"])
    g = torch.Generator().manual_seed(seed + 1)
    c = spec["config"]
    sample = torch.randn(2, c["in_channels"], spec["frames"], spec["height"], spec["width"], generator=g)
    context = torch.randn(2, 5, c["cross_attention_dim"], generator=g)
    timestep = 421
    io = {"sample": sample, "timestep": torch.tensor([float(timestep)]), "encoder_hidden_states": context}
    with torch.no_grad():
        if spec["fps"] is None:  # the fp32 file's output
            io["sample_out"] = unet(sample, timestep, encoder_hidden_states=context).sample.contiguous()
        # The fp16 file's: the reference on its weights widened back to float32, as Longshot reads them.
        unet.load_state_dict({k: v.half().float() for k, v in state.items()})
        out = unet(sample, timestep, encoder_hidden_states=context).sample
        io["sample_out_fp16"] = out.contiguous()
    if spec["fps"] is not None:
        io["fps"] = torch.tensor([float(spec["fps"])])
    save_file(io, os.path.join(ROOT, name + ".io.safetensors"))
    print(name, tuple(out.shape), sum(p.numel() for p in unet.parameters()), "parameters")


def main():
    for i, (name, spec) in enumerate(CONFIGS.items()):
        write(name, spec, 700 + i)


if __name__ == "__main__":
    main()
