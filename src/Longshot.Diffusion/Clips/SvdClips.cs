using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Svd;
using Longshot.Distributed;
using Longshot.Tensors;

namespace Longshot.Diffusion.Clips;

/// <summary>
/// Video-Infinity's clip parallelism over Stable Video Diffusion (and ExVideo's extension of it): the video cut into
/// clips, sampled at once on this process's threads or over MPI ranks, every temporal resnet with the whole video's
/// group-norm statistics and its neighbours' edge frames, every temporal attention with the local window and the
/// global frames, ExVideo's positional convolution with its neighbours' frames. Each clip runs the model as on a
/// video of its own length (its frame positions count from its first frame), so with ExVideo's 128-frame table a
/// video of any length is made of clips of up to 128 frames. One clip over the whole video is the ordinary
/// pipeline; the video does not depend on how many workers host the clips.
/// </summary>
public static class SvdClips
{
    /// <summary>The denoised latents [1, F, C, h, w] of the whole video (on every rank) and the bytes this rank's
    /// clips received from other clips.</summary>
    public static (Tensor Latents, long BytesExchanged) Denoise(SvdPipeline pipe, Tensor image, SvdSettings settings,
        ClipSettings clips, ICommunicator comm, SvdNoise? noise = null, IProgress<StepProgress>? progress = null,
        CancellationToken cancel = default, string? runDir = null, Action<string>? warning = null)
    {
        int down = pipe.Vae.Config.DownFactor;
        pipe.Validate(settings);
        if (image.Rank != 3 || image.Shape[0] != 3)
            throw new ArgumentException("the conditioning image must be [3, H, W], got " +
                $"[{string.Join(", ", image.Shape)}].");
        int frames = settings.Frames ?? pipe.Unet.Config.NumFrames;
        clips.Validate(frames);
        var layout = clips.Layout(frames);
        int longest = Enumerable.Range(0, layout.Clips).Max(layout.Length);
        if (pipe.Unet.Config.ExtensionFrames is { } most && longest > most)
            throw new SettingException("Frames", $"clips of {longest} frames are longer than the extension's " +
                $"{most}-frame position table; use shorter clips.");
        var frame = new[] { pipe.Vae.Config.LatentChannels, settings.Height / down, settings.Width / down };
        long video = (long)frames * frame[0] * frame[1] * frame[2];
        if (noise != null && !noise.Latents.Shape.SequenceEqual(new[] { 1, frames }.Concat(frame)))
            throw new SettingException("Latents", "the initial latents are " +
                $"[{string.Join(", ", noise.Latents.Shape)}], not [1, {frames}, {string.Join(", ", frame)}].");

        // The ordinary pipeline draws the image noise after the video's latents.
        var imageNoise = noise?.ImageNoise ?? Tensor.Randn(new Rng(settings.Seed, (ulong)((video + 3) / 4)), 1, 3,
            settings.Height, settings.Width);
        var (context, imageLatents, ids) = pipe.Condition(image, settings, imageNoise);
        var conditions = new SvdClipConditions(context, imageLatents, ids);
        var (latents, bytes) = new ClipRun(layout, clips, comm, frame).Run((clip, exchange) =>
            {
                int start = layout.Start(clip), len = layout.Length(clip);
                var initial = noise != null ? noise.Latents.Squeeze(0).Narrow(0, start, len).Contiguous()
                    : Tensor.Randn(new Rng(settings.Seed).Window((long)start * frame[0] * frame[1] * frame[2], video),
                        new[] { len }.Concat(frame).ToArray());
                return new SvdClipDenoiser(pipe.Unet, pipe.SchedulerConfig, settings, conditions, initial, layout,
                    clip, exchange);
            }, runDir, Identity(pipe, image, settings, clips, noise), settings.Steps,
            k => progress?.Report(new StepProgress("denoise", k, settings.Steps)), warning, cancel);
        return (Ops.Stack(latents, 0).Unsqueeze(0).Contiguous(), bytes);
    }

    /// <summary>The job's identity: the model, settings, clip settings, the image and any given noise.</summary>
    private static string Identity(SvdPipeline pipe, Tensor image, SvdSettings settings, ClipSettings clips,
        SvdNoise? noise) => "svd-clips " + JobIdentity.Of(
            new object[] { pipe.Unet.Config, pipe.SchedulerConfig, settings with { DecodeChunkSize = null },
                clips.Identity },
            noise == null ? new[] { image } : new[] { image, noise.Latents, noise.ImageNoise });
}
