"""Golden fixtures for the text-to-video family's parts (issue: text-to-video from published files).

The CLIP text tower in Hugging Face's layout (CLIPTextModel: config.json and model[.fp16].safetensors), computed by
DiffSynth-Studio's SDTextEncoder after its own from_diffusers converter, every weight random and GELU as OpenCLIP
ViT-H/14 uses it: a tiny tower, and one at ViT-H's real width (1024, 16 heads) stored fp16; written under
tests/Longshot.Diffusion.Tests/Golden/t2v/.

    source ../shared/reference/env.sh && $REF_PY tools/make_t2v_golden.py
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from make_svd_golden import clip_encoder_layers, sdpa  # noqa: E402  (sdpa: PyTorch 2's attention for DiffSynth)
from safetensors.torch import save_file  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "tests", "Longshot.Diffusion.Tests", "Golden", "t2v")

TEXT = dict(vocab_size=320, hidden_size=64, intermediate_size=160, projection_dim=64, num_hidden_layers=2,
            num_attention_heads=4, max_position_embeddings=77, hidden_act="gelu", layer_norm_eps=1e-5)


def clip_text_encoder(c, folder, seed):
    """A CLIPTextModel folder (Hugging Face layout, every weight random) and DiffSynth's SDTextEncoder loaded from it
    through its from_diffusers converter; returns the encoder and the generator, to draw inputs on from."""
    from diffsynth.models.sd_text_encoder import CLIPEncoderLayer, SDTextEncoder
    g = torch.Generator().manual_seed(seed)
    d, inner, layers = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]

    def rnd(*shape, scale=None):
        t = torch.randn(*shape, generator=g)
        return t * (scale if scale is not None else 1 / max(1, t[0].numel() if t.dim() > 1 else 1) ** 0.5)

    hf = {
        "text_model.embeddings.token_embedding.weight": rnd(c["vocab_size"], d, scale=1.0),
        "text_model.embeddings.position_embedding.weight": rnd(c["max_position_embeddings"], d, scale=0.5),
        "text_model.final_layer_norm.weight": 1 + 0.2 * rnd(d, scale=1.0),
        "text_model.final_layer_norm.bias": rnd(d, scale=0.1),
    }
    hf.update(clip_encoder_layers("text_model", layers, d, inner, rnd))
    os.makedirs(folder, exist_ok=True)
    config = {"architectures": ["CLIPTextModel"], "model_type": "clip_text_model", "attention_dropout": 0.0,
              "dropout": 0.0, "initializer_factor": 1.0, "initializer_range": 0.02, "torch_dtype": "float32",
              "transformers_version": "4.34.0", "pad_token_id": 1, "bos_token_id": 49406, "eos_token_id": 49407,
              **c}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    save_file(hf, os.path.join(folder, "model.safetensors"))
    encoder = SDTextEncoder(embed_dim=d, vocab_size=c["vocab_size"], max_position_embeddings=77,
                            num_encoder_layers=layers, encoder_intermediate_size=inner)
    # SDTextEncoder's layers are SD 1.x's (12 heads of 64, quick GELU); ViT-H's are these heads with GELU.
    encoder.encoders = torch.nn.ModuleList([
        CLIPEncoderLayer(d, inner, num_heads=c["num_attention_heads"], head_dim=d // c["num_attention_heads"],
                         use_quick_gelu=False) for _ in range(layers)])
    encoder.load_state_dict(SDTextEncoder.state_dict_converter().from_diffusers(hf), strict=True)
    encoder.eval()
    return encoder, g


# OpenCLIP ViT-H/14's text tower at its real width (1024, 16 heads of 64, GELU), one layer and a small vocabulary;
# its weights stored fp16, as the published folders ship them (model.fp16.safetensors).
VITH = dict(vocab_size=64, hidden_size=1024, intermediate_size=1024, projection_dim=1024, num_hidden_layers=1,
            num_attention_heads=16, max_position_embeddings=77, hidden_act="gelu", layer_norm_eps=1e-5)


def write_text_encoder(name="text_encoder_tiny", c=TEXT, seed=900, fp16=False):
    folder = os.path.join(ROOT, name)
    encoder, g = clip_text_encoder(c, folder, seed)
    if fp16:
        # The fp16 file alone; the reference runs on its weights widened back to float32.
        from safetensors.torch import load_file
        state = load_file(os.path.join(folder, "model.safetensors"))
        os.remove(os.path.join(folder, "model.safetensors"))
        save_file({k: v.half() for k, v in state.items()}, os.path.join(folder, "model.fp16.safetensors"))
        encoder.load_state_dict({k: v.half().float() for k, v in encoder.state_dict().items()})
    ids = torch.randint(0, c["vocab_size"], (2, 77), generator=g)
    shimmed = not hasattr(torch.nn.functional, "scaled_dot_product_attention")
    if shimmed:
        torch.nn.functional.scaled_dot_product_attention = sdpa
    try:
        with torch.no_grad():
            hidden = encoder(ids)
    finally:
        if shimmed:
            del torch.nn.functional.scaled_dot_product_attention
    save_file({"input_ids": ids.float(), "last_hidden_state": hidden}, os.path.join(ROOT, name + ".io.safetensors"))
    print(name + ": hidden std", float(hidden.std()))


if __name__ == "__main__":
    write_text_encoder()
    write_text_encoder("text_encoder_vith", VITH, 901, fp16=True)
