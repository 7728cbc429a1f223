"""Golden fixture for the text-to-video pipeline (issue: text-to-video from published files).

A whole text-to-video folder in the published layout at tiny sizes, every weight random: model_index.json
(TextToVideoSDPipeline), scheduler/ (ModelScope's DDIM config), tokenizer/ (OpenAI CLIP's BPE cut to its first 300
merges, so that the text encoder's vocabulary stays small), text_encoder/ (CLIPTextModel, GELU as ViT-H/14),
unet/ (UNet3DConditionModel, fp16) and vae/ (AutoencoderKL). diffusers v0.25's own TextToVideoSDPipeline runs it,
given the initial latents: transformers is not in the reference kit, so the text encoder is DiffSynth's
SDTextEncoder after its from_diffusers converter and the tokenizer OpenAI's simple_tokenizer over the same
vocabulary, each behind the few attributes the pipeline reads. Written under
tests/Longshot.Diffusion.Tests/Golden/t2v/pipeline_tiny and pipeline_tiny.io.safetensors (DDIM, and SDE-DPM-Solver++
with Karras sigmas given its noise).

    source ../shared/reference/env.sh && $REF_PY tools/make_t2v_pipeline_golden.py
"""
import gzip
import json
import os
import sys
import types

import torch

sys.path.insert(0, os.path.dirname(__file__))
REF = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference", "py"))
sys.path.insert(0, REF)


import make_svd_golden  # noqa: E402  (patches diffusers' attention scores for PyTorch 1.13 on the CPU)
from make_svd_golden import randomize, sdpa, write_folder  # noqa: E402
from make_t2v_golden import clip_text_encoder  # noqa: E402
from make_tokenizer_golden import write_tokenizer_folder  # noqa: E402
from clip.simple_tokenizer import SimpleTokenizer  # noqa: E402
from diffusers import AutoencoderKL, DDIMScheduler, DPMSolverMultistepScheduler, UNet3DConditionModel  # noqa: E402
from safetensors.torch import save_file  # noqa: E402


class _Missing:  # what the pipeline module imports from transformers; never instantiated here
    pass


# diffusers is imported first (it sees no transformers); then the pipeline module finds these names.
stub = types.ModuleType("transformers")
for _name in ("CLIPTextModel", "CLIPTokenizer", "CLIPTextModelWithProjection", "CLIPImageProcessor",
              "CLIPVisionModelWithProjection", "PreTrainedModel", "PreTrainedTokenizer"):
    setattr(stub, _name, _Missing)
sys.modules.setdefault("transformers", stub)
import diffusers.loaders  # noqa: E402


class _TextualInversion:  # no textual-inversion tokens here: a prompt is what it is, as the real mixin leaves it
    def maybe_convert_prompt(self, prompt, tokenizer):
        return prompt


diffusers.loaders.LoraLoaderMixin = type("LoraLoaderMixin", (), {})
diffusers.loaders.TextualInversionLoaderMixin = _TextualInversion
import diffusers.pipelines.text_to_video_synthesis as _t2v  # noqa: E402
from diffusers.pipelines.text_to_video_synthesis.pipeline_output import TextToVideoSDPipelineOutput  # noqa: E402

_t2v.TextToVideoSDPipelineOutput = TextToVideoSDPipelineOutput  # the package exports it only with transformers
from diffusers.pipelines.text_to_video_synthesis.pipeline_text_to_video_synth import TextToVideoSDPipeline  # noqa

ROOT = os.path.join(os.path.dirname(__file__), "..", "tests", "Longshot.Diffusion.Tests", "Golden", "t2v")
MERGES = 300
TEXT = dict(vocab_size=256 * 2 + MERGES + 2, hidden_size=32, intermediate_size=64, projection_dim=32,
            num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=77, hidden_act="gelu",
            layer_norm_eps=1e-5)
UNET = dict(sample_size=4, in_channels=4, out_channels=4, down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
            up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), block_out_channels=(32, 64), layers_per_block=1,
            norm_num_groups=8, cross_attention_dim=32, attention_head_dim=8)
VAE = dict(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2,
           up_block_types=("UpDecoderBlock2D",) * 2, block_out_channels=(32, 64), layers_per_block=1,
           latent_channels=4, norm_num_groups=32, sample_size=8)
SCHEDULER = {"_class_name": "DDIMScheduler", "_diffusers_version": "0.15.0.dev0", "beta_end": 0.012,
             "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False, "num_train_timesteps": 1000,
             "prediction_type": "epsilon", "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
             "trained_betas": None}
PROMPT, NEGATIVE = "A red panda eats bamboo, 4k", "blurry"


class Tokenizer:
    """OpenAI's tokenizer over the cut vocabulary, with what TextToVideoSDPipeline reads of a CLIPTokenizer."""
    model_max_length = 77
    added_tokens_encoder = {}

    def __init__(self, bpe_gz, pad_id):
        self.inner = SimpleTokenizer(bpe_gz)
        self.pad_id = pad_id

    def tokenize(self, text):
        return [str(i) for i in self.inner.encode(text)]

    def __call__(self, prompts, padding="max_length", max_length=None, truncation=False, return_tensors="pt"):
        prompts = [prompts] if isinstance(prompts, str) else prompts
        rows = []
        for p in prompts:
            ids = [self.inner.encoder["<|startoftext|>"]] + self.inner.encode(p)
            ids.append(self.inner.encoder["<|endoftext|>"])
            if truncation and len(ids) > max_length:
                ids = ids[:max_length - 1] + [self.inner.encoder["<|endoftext|>"]]
            rows.append(ids)
        length = max_length if padding == "max_length" else max(len(r) for r in rows)
        rows = [r + [self.pad_id] * (length - len(r)) for r in rows]
        ids = torch.tensor(rows)
        return types.SimpleNamespace(input_ids=ids, attention_mask=torch.ones_like(ids))

    def batch_decode(self, ids):
        return [self.inner.decode([int(i) for i in row]) for row in ids]


class TextEncoder(torch.nn.Module):
    """DiffSynth's SDTextEncoder with what the pipeline reads of a CLIPTextModel."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.config = types.SimpleNamespace()

    @property
    def dtype(self):
        return torch.float32

    @property
    def device(self):
        return torch.device("cpu")

    def forward(self, input_ids, attention_mask=None):
        return (self.encoder(input_ids),)


def write_cut_tokenizer(folder):
    """The first MERGES merges of OpenAI's vocabulary, as a tokenizer folder and as OpenAI's gzip file."""
    write_tokenizer_folder(folder, merges_limit=MERGES)
    merges = [m for m in open(os.path.join(folder, "merges.txt"), encoding="utf-8").read().split("\n") if m]
    gz = os.path.join(folder, "..", "pipeline_tiny_bpe.txt.gz")
    with gzip.open(gz, "wt", encoding="utf-8") as f:
        f.write("\n".join(merges))
    return gz


def main():
    folder = os.path.join(ROOT, "pipeline_tiny")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model_index.json"), "w") as f:
        json.dump({"_class_name": "TextToVideoSDPipeline", "_diffusers_version": "0.25.0",
                   "scheduler": ["diffusers", "DDIMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
                   "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet3DConditionModel"],
                   "vae": ["diffusers", "AutoencoderKL"]}, f, indent=2)
    os.makedirs(os.path.join(folder, "scheduler"), exist_ok=True)
    with open(os.path.join(folder, "scheduler", "scheduler_config.json"), "w") as f:
        json.dump(SCHEDULER, f, indent=2)
    gz = write_cut_tokenizer(os.path.join(folder, "tokenizer"))
    encoder, _ = clip_text_encoder(TEXT, os.path.join(folder, "text_encoder"), seed=910)
    torch.manual_seed(0)
    unet = UNet3DConditionModel(**UNET)
    randomize(unet, 911)
    write_folder(os.path.join(folder, "unet"), unet, variant="fp16")
    unet.load_state_dict({k: v.half().float() for k, v in unet.state_dict().items()})
    vae = AutoencoderKL(**VAE)
    randomize(vae, 912)
    write_folder(os.path.join(folder, "vae"), vae)
    unet.eval()
    vae.eval()
    tokenizer = Tokenizer(gz, pad_id=pad_id_of(folder))
    os.remove(gz)

    g = torch.Generator().manual_seed(913)
    frames, h, w = 3, 4, 8
    latents = torch.randn(1, 4, frames, h, w, generator=g)
    io = {"latents": latents}
    torch.nn.functional.scaled_dot_product_attention = sdpa
    for name, scheduler, steps in [
        ("ddim", DDIMScheduler.from_config(SCHEDULER), 4),
        ("sde", DPMSolverMultistepScheduler.from_config(SCHEDULER, algorithm_type="sde-dpmsolver++",
                                                         use_karras_sigmas=True), 4),
    ]:
        pipe = TextToVideoSDPipeline(vae=vae, text_encoder=TextEncoder(encoder), tokenizer=tokenizer, unet=unet,
                                     scheduler=scheduler)
        noise_g = torch.Generator().manual_seed(914)
        if name == "sde":  # the noise each step will draw, drawn again from the same generator state
            replay = torch.Generator().manual_seed(914)
            for i in range(steps):
                io[f"sde_noise_{i}"] = torch.randn(frames, 4, h, w, generator=replay)
        with torch.no_grad():
            out = pipe(PROMPT, negative_prompt=NEGATIVE, num_frames=frames, height=h * 2, width=w * 2,
                       num_inference_steps=steps, guidance_scale=7.5, latents=latents.clone(), generator=noise_g,
                       output_type="latent").frames
            video = pipe.decode_latents(out)
        io[f"{name}_latents_out"] = out.contiguous()
        io[f"{name}_video"] = video.contiguous()
        print(name, tuple(video.shape), float(video.std()))
    save_file(io, os.path.join(ROOT, "pipeline_tiny.io.safetensors"))
    with open(os.path.join(ROOT, "pipeline_tiny.json"), "w") as f:
        json.dump({"prompt": PROMPT, "negative_prompt": NEGATIVE, "frames": frames, "height": h * 2, "width": w * 2,
                   "steps": 4, "guidance_scale": 7.5}, f, indent=2)


def pad_id_of(folder):
    vocab = json.load(open(os.path.join(folder, "tokenizer", "vocab.json"), encoding="utf-8"))
    return vocab["!"]


if __name__ == "__main__":
    main()
