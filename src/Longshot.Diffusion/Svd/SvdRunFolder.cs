using Longshot.Tensors;
using Longshot.Diffusion.Pipelines;

namespace Longshot.Diffusion.Svd;

/// <summary>
/// A Stable Video Diffusion job's run folder: the latents after the last finished step, written atomically with the
/// job's identity (model config, settings, image and noise). A rerun of the same job continues from there; a folder
/// of another job is refused rather than mixed in.
/// </summary>
public sealed class SvdRunFolder(string folder, string identity)
{
    private readonly StepRunFolder _state = new(folder, "svd-state.safetensors", identity);

    /// <summary>The job's identity: a hash of everything its latents depend on.</summary>
    public static string Identity(SvdPipeline pipe, Tensor image, SvdSettings settings, SvdNoise noise) =>
        JobIdentity.Of(new object[] { pipe.Unet.Config, settings with { DecodeChunkSize = null } },
            new[] { image, noise.Latents, noise.ImageNoise });

    /// <summary>The step reached and its latents, when this folder holds this job; null for a fresh folder.</summary>
    public (int Step, Tensor Latents)? Resume() => _state.Resume() is { } s ? (s.Step, s.Tensors["latents"]) : null;

    /// <summary>Saves the latents after <paramref name="step"/> steps.</summary>
    public void Save(int step, Tensor latents) =>
        _state.Save(step, new Dictionary<string, Tensor> { ["latents"] = latents });
}
