using Longshot.Diffusion.TextToVideo;
using Longshot.Diffusion.Pipelines;
using Longshot.Distributed;
using Longshot.Tensors;

namespace Longshot.Diffusion.Clips;

/// <summary>
/// Video-Infinity as its authors run it, on a published text-to-video model: the video cut into clips
/// (<see cref="ClipSettings"/>), sampled at once on this process's threads or over MPI ranks, every temporal layer of
/// the UNet3D seeing the neighbouring clips' frames, the video's global frames and the whole video's group-norm
/// statistics. A clip's prompt is its frames' (a storyline's segments). The video does not depend on how many workers
/// host the clips, and one clip over the whole video is the ordinary pipeline.
/// </summary>
public static class TextToVideoClips
{
    /// <summary>
    /// The denoised latents [1, C, F, h, w] of the whole video (on every rank) and the bytes this rank's clips
    /// received from other clips. With <paramref name="runDir"/>, every clip's state is saved after each step and a
    /// rerun of the same job continues from the last step every clip finished.
    /// </summary>
    public static (Tensor Latents, long BytesExchanged) Denoise(TextToVideoPipeline pipe, TextToVideoSettings settings,
        ClipSettings clips, ICommunicator comm, TextToVideoNoise? noise = null,
        IProgress<StepProgress>? progress = null, CancellationToken cancel = default, string? runDir = null,
        Action<string>? warning = null)
    {
        int down = pipe.Vae.Config.DownFactor;
        settings.Validate(down);
        clips.Validate(settings.Frames);
        int sample = pipe.Unet.Config.SampleSize ?? 32;
        int h = (settings.Height ?? sample * down) / down, w = (settings.Width ?? sample * down) / down;
        var frame = new[] { pipe.Vae.Config.LatentChannels, h, w };
        var shape = new[] { 1, frame[0], settings.Frames, h, w };
        if (noise != null && !noise.Latents.Shape.SequenceEqual(shape))
            throw new SettingException("Latents", $"the initial latents are " +
                $"[{string.Join(", ", noise.Latents.Shape)}], not [{string.Join(", ", shape)}].");
        var layout = clips.Layout(settings.Frames);
        // Every prompt once per process (not once per clip), with guidance the negative one too.
        Dictionary<string, Tensor> encoded;
        using (Tensor.NoGrad())
            encoded = pipe.EncodeDistinct(Enumerable.Range(0, settings.Frames).Select(settings.PromptAt)
                .Concat(settings.Guided ? new[] { settings.NegativePrompt ?? "" } : Array.Empty<string>()));
        var (latents, bytes) = new ClipRun(layout, clips, comm, frame).Run(
            (clip, exchange) => new TextToVideoClipDenoiser(pipe, settings, noise, encoded, layout, clip, exchange,
                frame),
            runDir, Identity(pipe, settings, clips, noise), settings.Steps,
            k => progress?.Report(new StepProgress("denoise", k, settings.Steps)), warning, cancel);
        var video = Ops.Stack(latents, 1).Unsqueeze(0);                    // [1, C, F, h, w]
        return (video.Contiguous(), bytes);
    }

    /// <summary>The job's identity: the model, sampler, settings, clip settings and any given latents.</summary>
    private static string Identity(TextToVideoPipeline pipe, TextToVideoSettings settings, ClipSettings clips,
        TextToVideoNoise? noise) => "t2v-clips " + JobIdentity.Of(
            new object[] { pipe.Unet.Config, pipe.SchedulerConfig, settings with { DecodeChunkSize = null },
                clips.Identity },
            noise == null ? Array.Empty<Tensor>() : new[] { noise.Latents });
}
