"""Golden fixtures for Stable Video Diffusion's UNet (diffusers v0.25 UNetSpatioTemporalConditionModel).

Writes small random models in the published folder layout (config.json plus diffusion_pytorch_model.safetensors, its
.fp16 variant, or shards with an index) and the reference's output on fixed inputs, under
tests/Longshot.Diffusion.Tests/Golden/svd/. Every weight is random (norm scales near 1, mix factors of both signs),
so no zero-initialised layer hides a mistake.

    source ../shared/reference/env.sh && $REF_PY tools/make_svd_golden.py
"""
import json
import os
import sys

import torch
from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler, UNetSpatioTemporalConditionModel
from diffusers.models.attention_processor import Attention
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))

ROOT = os.path.join(os.path.dirname(__file__), "..", "tests", "Longshot.Diffusion.Tests", "Golden", "svd")

CONFIGS = {
    # Two levels, one layer each: every block kind appears once.
    "unet_tiny": dict(
        in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        block_out_channels=(32, 64), addition_time_embed_dim=8, projection_class_embeddings_input_dim=24,
        layers_per_block=1, cross_attention_dim=16, transformer_layers_per_block=1, num_attention_heads=(2, 4),
        num_frames=3),
    # The published block order at small widths: two layers per block, two transformer layers, per-level heads.
    "unet_small": dict(
        in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "CrossAttnDownBlockSpatioTemporal",
                          "CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal",
                        "CrossAttnUpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        block_out_channels=(32, 32, 32, 64), addition_time_embed_dim=4, projection_class_embeddings_input_dim=12,
        layers_per_block=(2, 1, 1, 1), cross_attention_dim=24, transformer_layers_per_block=(1, 2, 1, 1),
        num_attention_heads=(1, 2, 4, 2), num_frames=4),
}


def attention_scores(self, query, key, attention_mask=None):
    """diffusers' get_attention_scores without its uninitialised baddbmm input: PyTorch 1.13 on the CPU reads that
    memory despite beta=0 when the key is one token long, and NaNs leak into the output. Same formula."""
    scores = torch.bmm(query, key.transpose(-1, -2)) * self.scale
    if attention_mask is not None:
        scores = scores + attention_mask
    if self.upcast_softmax:
        scores = scores.float()
    return scores.softmax(dim=-1).to(query.dtype)


Attention.get_attention_scores = attention_scores


def sdpa(q, k, v, attn_mask=None):
    """PyTorch 2's scaled_dot_product_attention, which DiffSynth calls, for PyTorch 1.13: the same formula."""
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    if attn_mask is not None:
        scores = scores + attn_mask
    return scores.softmax(-1) @ v



def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if name.endswith("mix_factor"):
                p.copy_(r * 1.5)
            elif "norm" in name and name.endswith("weight") and p.dim() == 1:
                p.copy_(1.0 + 0.2 * r)
            elif name.endswith("bias"):
                p.copy_(0.1 * r)
            else:
                fan_in = max(1, p[0].numel()) if p.dim() > 1 else 1
                p.copy_(r / fan_in ** 0.5)


VAE = dict(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2, block_out_channels=(32, 64),
           layers_per_block=1, latent_channels=4, sample_size=16)


def write_folder(folder, model, variant=None, shards=0):
    os.makedirs(folder, exist_ok=True)
    config = dict(model.config)
    config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.items() if not k.startswith("_")}
    config = {"_class_name": type(model).__name__, "_diffusers_version": "0.25.0", **config}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    if variant == "fp16":
        state = {k: v.half() for k, v in state.items()}
    suffix = ".fp16.safetensors" if variant == "fp16" else ".safetensors"
    if shards == 0:
        save_file(state, os.path.join(folder, "diffusion_pytorch_model" + suffix))
        return
    names = sorted(state)
    per = (len(names) + shards - 1) // shards
    weight_map, total = {}, 0
    for i in range(shards):
        part = names[i * per:(i + 1) * per]
        file = f"diffusion_pytorch_model-{i + 1:05d}-of-{shards:05d}{suffix}"
        save_file({k: state[k] for k in part}, os.path.join(folder, file))
        for k in part:
            weight_map[k] = file
            total += state[k].numel() * state[k].element_size()
    with open(os.path.join(folder, "diffusion_pytorch_model" + suffix + ".index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)


def inputs(config, seed, batch=2, height=8, width=8):
    g = torch.Generator().manual_seed(seed)
    frames = config["num_frames"]
    return {
        "sample": torch.randn(batch, frames, config["in_channels"], height, width, generator=g),
        "timestep": torch.tensor([0.25 * 1.7]),
        "encoder_hidden_states": torch.randn(batch, 1, config["cross_attention_dim"], generator=g),
        "added_time_ids": torch.tensor([[6.0, 127.0, 0.02]] * batch)[:, : 3],
    }


def write_vae():
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(**VAE).eval()
    randomize(vae, 300)
    write_folder(os.path.join(ROOT, "pipeline_tiny", "vae"), vae)
    g = torch.Generator().manual_seed(301)
    image = torch.rand(2, 3, 16, 16, generator=g) * 2 - 1
    z = torch.randn(6, 4, 8, 8, generator=g)
    with torch.no_grad():
        dist = vae.encode(image).latent_dist
        decoded = vae.decode(z, num_frames=3).sample
    save_file({"image": image, "mean": dist.mean, "logvar": dist.logvar, "z": z, "decoded": decoded},
              os.path.join(ROOT, "vae_tiny.io.safetensors"))
    print("vae_tiny", sum(p.numel() for p in vae.parameters()), "parameters; decoded std", float(decoded.std()))
    return vae


CLIP = dict(hidden_size=64, intermediate_size=160, projection_dim=24, num_hidden_layers=2, num_attention_heads=4,
            num_channels=3, image_size=224, patch_size=14, hidden_act="gelu", layer_norm_eps=1e-5)


def clip_encoder_layers(tower, layers, d, inner, rnd):
    """Random weights of a Hugging Face CLIP tower's encoder layers (tower: vision_model or text_model), drawn in a
    fixed order from rnd(*shape, scale=None)."""
    hf = {}
    for i in range(layers):
        pre = f"{tower}.encoder.layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            hf[pre + f"self_attn.{proj}.weight"] = rnd(d, d)
            hf[pre + f"self_attn.{proj}.bias"] = rnd(d, scale=0.1)
        for norm in ("layer_norm1", "layer_norm2"):
            hf[pre + norm + ".weight"] = 1 + 0.2 * rnd(d, scale=1.0)
            hf[pre + norm + ".bias"] = rnd(d, scale=0.1)
        hf[pre + "mlp.fc1.weight"], hf[pre + "mlp.fc1.bias"] = rnd(inner, d), rnd(inner, scale=0.1)
        hf[pre + "mlp.fc2.weight"], hf[pre + "mlp.fc2.bias"] = rnd(d, inner), rnd(d, scale=0.1)
    return hf


def write_image_encoder():
    """CLIPVisionModelWithProjection in Hugging Face's layout, computed by DiffSynth's SVDImageEncoder after its own
    converter from that layout (DiffSynth fixes image size 224 and patch 14, as ViT-H/14 has them)."""
    from diffsynth.models.svd_image_encoder import SVDImageEncoder
    c = CLIP
    g = torch.Generator().manual_seed(400)
    d, layers, inner = c["hidden_size"], c["num_hidden_layers"], c["intermediate_size"]
    positions = (c["image_size"] // c["patch_size"]) ** 2 + 1

    def rnd(*shape, scale=None):
        t = torch.randn(*shape, generator=g)
        return t * (scale if scale is not None else 1 / max(1, t[0].numel() if t.dim() > 1 else 1) ** 0.5)

    hf = {
        "vision_model.embeddings.class_embedding": rnd(d, scale=1.0),
        "vision_model.embeddings.patch_embedding.weight": rnd(d, 3, c["patch_size"], c["patch_size"]),
        "vision_model.embeddings.position_embedding.weight": rnd(positions, d, scale=0.5),
        "vision_model.pre_layrnorm.weight": 1 + 0.2 * rnd(d, scale=1.0),
        "vision_model.pre_layrnorm.bias": rnd(d, scale=0.1),
        "vision_model.post_layernorm.weight": 1 + 0.2 * rnd(d, scale=1.0),
        "vision_model.post_layernorm.bias": rnd(d, scale=0.1),
        "visual_projection.weight": rnd(c["projection_dim"], d),
    }
    hf.update(clip_encoder_layers("vision_model", layers, d, inner, rnd))
    folder = os.path.join(ROOT, "pipeline_tiny", "image_encoder")
    os.makedirs(folder, exist_ok=True)
    config = {"architectures": ["CLIPVisionModelWithProjection"], "model_type": "clip_vision_model",
              "attention_dropout": 0.0, "dropout": 0.0, "initializer_factor": 1.0, "initializer_range": 0.02,
              "torch_dtype": "float32", "transformers_version": "4.34.0", **c}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    save_file(hf, os.path.join(folder, "model.safetensors"))
    encoder = SVDImageEncoder(embed_dim=d, layer_norm_eps=c["layer_norm_eps"], num_encoder_layers=layers,
                              encoder_intermediate_size=inner, projection_dim=c["projection_dim"],
                              num_heads=c["num_attention_heads"], head_dim=d // c["num_attention_heads"]).eval()
    converted = SVDImageEncoder.state_dict_converter().from_diffusers(hf)
    encoder.load_state_dict(converted, strict=True)
    pixels = torch.randn(2, 3, 224, 224, generator=g)
    # Only while DiffSynth runs: diffusers would take the shim for PyTorch 2 and use its other processor.
    shimmed = not hasattr(torch.nn.functional, "scaled_dot_product_attention")
    if shimmed:
        torch.nn.functional.scaled_dot_product_attention = sdpa
    try:
        with torch.no_grad():
            embeds = encoder(pixels)
    finally:
        if shimmed:
            del torch.nn.functional.scaled_dot_product_attention
    save_file({"pixel_values": pixels, "image_embeds": embeds}, os.path.join(ROOT, "image_encoder_tiny.io.safetensors"))
    print("image_encoder_tiny", sum(t.numel() for t in hf.values()), "parameters; embeds std", float(embeds.std()))
    return encoder


# Stable Video Diffusion's scheduler_config.json as published, and a plain epsilon configuration.
SVD_SCHEDULER = {
    "_class_name": "EulerDiscreteScheduler", "_diffusers_version": "0.24.0.dev0", "beta_end": 0.012,
    "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False, "interpolation_type": "linear",
    "num_train_timesteps": 1000, "prediction_type": "v_prediction", "set_alpha_to_one": False, "sigma_max": 700.0,
    "sigma_min": 0.002, "skip_prk_steps": True, "steps_offset": 1, "timestep_spacing": "leading",
    "timestep_type": "continuous", "trained_betas": None, "use_karras_sigmas": True,
}
EPS_SCHEDULER = {"_class_name": "EulerDiscreteScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085,
                 "beta_end": 0.012, "prediction_type": "epsilon", "timestep_spacing": "linspace"}


def write_schedulers():
    tensors = {}
    for name, config in (("svd", SVD_SCHEDULER), ("eps", EPS_SCHEDULER)):
        folder = os.path.join(ROOT, "scheduler_" + name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "scheduler_config.json"), "w") as f:
            json.dump(config, f, indent=2, sort_keys=True)
        g = torch.Generator().manual_seed(500)
        for steps in (1, 8, 25):
            sched = EulerDiscreteScheduler.from_config({k: v for k, v in config.items() if not k.startswith("_")})
            sched.set_timesteps(steps)
            key = f"{name}.{steps}"
            tensors[key + ".sigmas"] = sched.sigmas.clone()
            tensors[key + ".timesteps"] = sched.timesteps.clone().float()
            tensors[key + ".init_noise_sigma"] = torch.tensor([float(sched.init_noise_sigma)])
            sample = torch.randn(2, 3, 4, 4, generator=g) * float(sched.init_noise_sigma)
            tensors[key + ".sample0"] = sample
            for i, t in enumerate(sched.timesteps):
                scaled = sched.scale_model_input(sample, t)
                output = torch.randn(2, 3, 4, 4, generator=g)
                tensors[f"{key}.scaled{i}"] = scaled
                tensors[f"{key}.output{i}"] = output
                sample = sched.step(output, t, sample).prev_sample
                tensors[f"{key}.sample{i + 1}"] = sample
    save_file(tensors, os.path.join(ROOT, "schedulers.io.safetensors"))
    print("schedulers", len(tensors), "tensors")


class ImageEmbeds(torch.nn.Module):
    """What the pipeline calls as image_encoder: DiffSynth's encoder, answering with .image_embeds as
    transformers' CLIPVisionModelWithProjection does."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, pixel_values):
        class Output:
            pass
        out = Output()
        shimmed = not hasattr(torch.nn.functional, "scaled_dot_product_attention")
        if shimmed:
            torch.nn.functional.scaled_dot_product_attention = sdpa
        try:
            out.image_embeds = self.encoder(pixel_values)
        finally:
            if shimmed:
                del torch.nn.functional.scaled_dot_product_attention
        return out


FEATURE_EXTRACTOR = {
    "crop_size": {"height": 224, "width": 224}, "do_center_crop": True, "do_convert_rgb": True, "do_normalize": True,
    "do_rescale": True, "do_resize": True, "feature_extractor_type": "CLIPFeatureExtractor",
    "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_processor_type": "CLIPImageProcessor",
    "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "rescale_factor": 0.00392156862745098,
    "size": {"shortest_edge": 224},
}


class FeatureExtractor:
    """CLIPImageProcessor as the pipeline calls it (resize, crop and rescale off): normalisation only."""

    def __call__(self, images, do_normalize, do_center_crop, do_resize, do_rescale, return_tensors):
        assert do_normalize and not (do_center_crop or do_resize or do_rescale)
        mean = torch.tensor(FEATURE_EXTRACTOR["image_mean"]).view(1, 3, 1, 1)
        std = torch.tensor(FEATURE_EXTRACTOR["image_std"]).view(1, 3, 1, 1)

        class Output:
            pass
        out = Output()
        out.pixel_values = (images - mean) / std
        return out


def write_pipeline(vae, encoder):
    """The whole image-to-video pipeline on a small random model: diffusers' StableVideoDiffusionPipeline given a
    PIL image, the initial latents and a seeded generator (whose first draw is the image's noise)."""
    import types
    from PIL import Image
    # The pipeline module imports two transformers classes for type hints only; the kit has no transformers.
    if "transformers" not in sys.modules:
        stub = types.ModuleType("transformers")
        stub.CLIPImageProcessor = type("CLIPImageProcessor", (), {})
        stub.CLIPVisionModelWithProjection = type("CLIPVisionModelWithProjection", (torch.nn.Module,), {})
        sys.modules["transformers"] = stub
    from diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion import (
        StableVideoDiffusionPipeline, _resize_with_antialiasing)
    folder = os.path.join(ROOT, "pipeline_tiny")
    cfg = dict(CONFIGS["unet_tiny"], cross_attention_dim=CLIP["projection_dim"], num_frames=3)
    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(**cfg).eval()
    randomize(unet, 600)
    with torch.no_grad():
        for p in unet.parameters():
            p.copy_(p.half().float())
    write_folder(os.path.join(folder, "unet"), unet, variant="fp16")
    os.makedirs(os.path.join(folder, "scheduler"), exist_ok=True)
    with open(os.path.join(folder, "scheduler", "scheduler_config.json"), "w") as f:
        json.dump(SVD_SCHEDULER, f, indent=2, sort_keys=True)
    os.makedirs(os.path.join(folder, "feature_extractor"), exist_ok=True)
    with open(os.path.join(folder, "feature_extractor", "preprocessor_config.json"), "w") as f:
        json.dump(FEATURE_EXTRACTOR, f, indent=2, sort_keys=True)
    with open(os.path.join(folder, "model_index.json"), "w") as f:
        json.dump({"_class_name": "StableVideoDiffusionPipeline", "_diffusers_version": "0.24.0.dev0",
                   "feature_extractor": ["transformers", "CLIPImageProcessor"],
                   "image_encoder": ["transformers", "CLIPVisionModelWithProjection"],
                   "scheduler": ["diffusers", "EulerDiscreteScheduler"],
                   "unet": ["diffusers", "UNetSpatioTemporalConditionModel"],
                   "vae": ["diffusers", "AutoencoderKLTemporalDecoder"]}, f, indent=2, sort_keys=True)
    scheduler = EulerDiscreteScheduler.from_config({k: v for k, v in SVD_SCHEDULER.items() if not k.startswith("_")})
    pipe = StableVideoDiffusionPipeline(vae=vae, image_encoder=ImageEmbeds(encoder), unet=unet, scheduler=scheduler,
                                        feature_extractor=FeatureExtractor())
    g = torch.Generator().manual_seed(700)
    height, width, frames = 24, 40, 3
    pixels = (torch.rand(height, width, 3, generator=g) * 255).round().to(torch.uint8)
    image = Image.fromarray(pixels.numpy())
    latents = torch.randn(1, frames, 4, height // 2, width // 2, generator=g)
    image_noise = torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(701))
    settings = dict(height=height, width=width, num_frames=frames, num_inference_steps=3, min_guidance_scale=1.0,
                    max_guidance_scale=3.0, fps=7, motion_bucket_id=127, noise_aug_strength=0.02, decode_chunk_size=2)
    with torch.no_grad():
        final = pipe(image, latents=latents.clone(), generator=torch.Generator().manual_seed(701),
                     output_type="latent", **settings).frames
        video = pipe(image, latents=latents.clone(), generator=torch.Generator().manual_seed(701),
                     output_type="pt", **settings).frames
    video = video[0] if isinstance(video, (list, tuple)) else video[0]
    save_file({"image": pixels.permute(2, 0, 1).float() / 127.5 - 1, "latents": latents, "image_noise": image_noise,
               "final_latents": final, "frames": video.float()}, os.path.join(ROOT, "pipeline_tiny.io.safetensors"))
    # The CLIP branch's resize on its own, downscaling (where the blur matters) and upscaling.
    big = torch.rand(1, 3, 300, 500, generator=g) * 2 - 1
    small = torch.rand(1, 3, 24, 40, generator=g) * 2 - 1
    save_file({"big": big[0], "big_224": _resize_with_antialiasing(big, (224, 224))[0], "small": small[0],
               "small_224": _resize_with_antialiasing(small, (224, 224))[0]},
              os.path.join(ROOT, "resize.io.safetensors"))
    print("pipeline_tiny: frames", tuple(video.shape), "range", float(video.min()), float(video.max()))


def write_exvideo_block():
    """ExVideo's extended temporal block: DiffSynth's TemporalAttentionBlock(add_positional_conv=FRAMES) at small
    sizes with every weight random, on 12 frames of 4x6, and its weights under the names Longshot's (diffusers')
    SpatioTemporalTransformer gives them; plus DiffSynth's PositionalID map for 128 frames."""
    from diffsynth.models.svd_unet import PositionalID, TemporalAttentionBlock
    channels, heads, cross, table, frames = 32, 2, 16, 20, 12
    torch.manual_seed(0)
    block = TemporalAttentionBlock(heads, channels // heads, channels, cross, add_positional_conv=table).eval()
    randomize(block, 800)
    g = torch.Generator().manual_seed(801)
    hidden = torch.randn(frames, channels, 4, 6, generator=g)
    text = torch.randn(1, cross, generator=g)
    shimmed = not hasattr(torch.nn.functional, "scaled_dot_product_attention")
    if shimmed:
        torch.nn.functional.scaled_dot_product_attention = sdpa
    try:
        with torch.no_grad():
            out = block(hidden, None, text, [])[0]
    finally:
        if shimmed:
            del torch.nn.functional.scaled_dot_product_attention
    ours = {
        "positional_embedding_proj.0": "time_pos_embed.linear_1",
        "positional_embedding_proj.2": "time_pos_embed.linear_2",
        "positional_embedding.embeddings": "time_pos_table", "positional_conv": "positional_conv",
        "act_fn_in.proj": "temporal_transformer_blocks.0.ff_in.net.0.proj",
        "ff_in": "temporal_transformer_blocks.0.ff_in.net.2",
        "act_fn_out.proj": "temporal_transformer_blocks.0.ff.net.0.proj",
        "ff_out": "temporal_transformer_blocks.0.ff.net.2", "norm_out": "temporal_transformer_blocks.0.norm3",
        "attn1.to_out": "temporal_transformer_blocks.0.attn1.to_out.0",
        "attn2.to_out": "temporal_transformer_blocks.0.attn2.to_out.0",
    }
    tensors = {}
    for name, value in block.state_dict().items():
        stem, _, leaf = name.rpartition(".")
        if name == "positional_embedding.embeddings":
            tensors["time_pos_table"] = value
        elif stem in ours:
            tensors[f"{ours[stem]}.{leaf}"] = value
        else:
            tensors[f"temporal_transformer_blocks.0.{name}"] = value
    tensors = {"weights." + k: v.contiguous() for k, v in tensors.items()}
    tensors.update({"hidden": hidden, "text": text, "out": out,
                    "position_ids": PositionalID()(128).float()})
    save_file(tensors, os.path.join(ROOT, "exvideo_block.io.safetensors"))
    print("exvideo_block: out std", float(out.std()))


def write_exvideo_names():
    """Names only, no weights: how DiffSynth-Studio names every parameter of SVD's published UNet (its
    from_diffusers converter over diffusers' names), and the shapes of the extension parameters of
    SVDUNet(add_positional_conv=128) -- the layout of ExVideo-SVD-128f-v1's model.fp16.safetensors -- so that Longshot's
    mapping is checked without the file."""
    from diffsynth.models.svd_unet import SVDUNet
    state = UNetSpatioTemporalConditionModel().state_dict()
    converted = SVDUNet.state_dict_converter().from_diffusers({k: k for k in state})
    pairs = {diffsynth: diffusers for diffsynth, diffusers in converted.items()}
    extended = SVDUNet(add_positional_conv=128).state_dict()
    extension = {k: list(v.shape) for k, v in extended.items() if ".positional_" in k}
    shapes = {k: list(v.shape) for k, v in extended.items()}
    with open(os.path.join(ROOT, "exvideo_names.json"), "w") as f:
        json.dump({"diffsynth_to_diffusers": pairs, "extension_shapes": extension, "diffsynth_shapes": shapes}, f,
                  indent=0, sort_keys=True)
    print("exvideo_names:", len(pairs), "converted names,", len(extension), "extension tensors")


def main():
    if "--names" in sys.argv:
        write_exvideo_names()
        return
    write_exvideo_block()
    write_schedulers()
    encoder = write_image_encoder()
    vae = write_vae()
    write_pipeline(vae, encoder)
    for i, (name, cfg) in enumerate(CONFIGS.items()):
        torch.manual_seed(0)
        model = UNetSpatioTemporalConditionModel(**cfg).eval()
        randomize(model, 100 + i)
        write_folder(os.path.join(ROOT, name), model)
        ins = inputs(cfg, 200 + i)
        with torch.no_grad():
            out = model(**ins).sample
        save_file({**ins, "sample_out": out}, os.path.join(ROOT, name + ".io.safetensors"))
        # The fp16 variant (sharded for the small config) computed in float32 on the rounded weights.
        half = os.path.join(ROOT, name + "_fp16")
        write_folder(half, model, variant="fp16", shards=3 if name == "unet_small" else 0)
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.half().float())
            out16 = model(**ins).sample
        save_file({**ins, "sample_out": out16}, os.path.join(ROOT, name + "_fp16.io.safetensors"))
        print(name, sum(p.numel() for p in model.parameters()), "parameters;", "out", tuple(out.shape),
              "std", float(out.std()))


if __name__ == "__main__":
    main()
