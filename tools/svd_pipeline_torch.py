"""diffusers' Stable Video Diffusion pipeline on PyTorch, for the `published-pipeline` bench to time beside Longshot's.

Real-size components with random weights: UNetSpatioTemporalConditionModel and AutoencoderKLTemporalDecoder with the
published configs (diffusers v0.25), the CLIP ViT-H/14 image tower as DiffSynth's SVDImageEncoder (transformers is not
in the reference kit), EulerDiscreteScheduler with SVD's config. One image-to-video call (FRAMES frames of SIZE x SIZE,
STEPS steps, guidance 1 to 3, all frames decoded together); prints one JSON line with the seconds and the peak
resident memory.

    $REF_PY tools/svd_pipeline_torch.py FRAMES SIZE STEPS
"""
import json
import os
import resource
import sys
import time
import types

import torch

sys.path.insert(0, os.path.dirname(__file__))
# diffusers first (it asks importlib whether transformers exists, which a stub without a spec breaks), then the stub
# the pipeline module imports two classes from for type hints only: the kit has no transformers.
from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler, UNetSpatioTemporalConditionModel  # noqa
if "transformers" not in sys.modules:
    stub = types.ModuleType("transformers")
    stub.CLIPImageProcessor = type("CLIPImageProcessor", (), {})
    stub.CLIPVisionModelWithProjection = type("CLIPVisionModelWithProjection", (torch.nn.Module,), {})
    sys.modules["transformers"] = stub

from diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion import (  # noqa
    StableVideoDiffusionPipeline)
from diffsynth.models.svd_image_encoder import SVDImageEncoder  # noqa
from make_svd_golden import SVD_SCHEDULER, FeatureExtractor, ImageEmbeds  # noqa


def main():
    frames, size, steps = (int(a) for a in sys.argv[1:4])
    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel().eval()
    vae = AutoencoderKLTemporalDecoder(block_out_channels=(128, 256, 512, 512), layers_per_block=2,
                                       down_block_types=("DownEncoderBlock2D",) * 4, latent_channels=4).eval()
    encoder = SVDImageEncoder().eval()
    scheduler = EulerDiscreteScheduler.from_config({k: v for k, v in SVD_SCHEDULER.items() if not k.startswith("_")})
    pipe = StableVideoDiffusionPipeline(vae=vae, image_encoder=ImageEmbeds(encoder), unet=unet, scheduler=scheduler,
                                        feature_extractor=FeatureExtractor())
    pipe.set_progress_bar_config(disable=True)
    from PIL import Image
    image = Image.fromarray((torch.rand(size, size, 3) * 255).to(torch.uint8).numpy())
    start = time.perf_counter()
    with torch.no_grad():
        pipe(image, height=size, width=size, num_frames=frames, num_inference_steps=steps, decode_chunk_size=frames,
             generator=torch.Generator().manual_seed(0), output_type="pt")
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
