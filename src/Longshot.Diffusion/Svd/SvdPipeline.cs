using Longshot.Diffusion.Clip;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schedulers;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Svd;

/// <summary>What a run can be given instead of drawing it from the seed: the initial latents [1, F, C, h, w]
/// (before scaling by the initial noise sigma) and the conditioning image's noise [1, 3, H, W].</summary>
public sealed record SvdNoise(Tensor Latents, Tensor ImageNoise);

/// <summary>
/// Stable Video Diffusion's image-to-video pipeline (diffusers' StableVideoDiffusionPipeline) over a published
/// folder: the CLIP image embedding as the context, the image's VAE latents beside every frame's, the added time
/// ids, EulerDiscrete sampling with per-frame classifier-free guidance, and the temporal decoder.
/// </summary>
public sealed class SvdPipeline
{
    /// <summary>The pipeline class published folders record.</summary>
    public const string Class = "StableVideoDiffusionPipeline";

    /// <summary>The components model_index.json must name, with their classes.</summary>
    public static readonly IReadOnlyDictionary<string, string> Components = new Dictionary<string, string>
    {
        ["unet"] = SvdUnetConfig.Class, ["vae"] = SvdVaeConfig.Class, ["image_encoder"] = ClipVisionConfig.Class,
        ["scheduler"] = EulerDiscreteConfig.Class, ["feature_extractor"] = "CLIPImageProcessor",
    };

    public SvdUnet Unet { get; }
    public SvdVae Vae { get; }
    public ClipVisionModel ImageEncoder { get; }
    public EulerDiscreteConfig SchedulerConfig { get; }
    public ClipImageProcessorConfig FeatureExtractor { get; }

    public SvdPipeline(SvdUnet unet, SvdVae vae, ClipVisionModel imageEncoder, EulerDiscreteConfig scheduler,
        ClipImageProcessorConfig featureExtractor)
    {
        if (unet.Config.CrossAttentionDim.Distinct().Single() != imageEncoder.Config.ProjectionDim)
            throw new LongshotException($"the UNet's cross_attention_dim ({unet.Config.CrossAttentionDim[0]}) is not " +
                $"the image encoder's projection_dim ({imageEncoder.Config.ProjectionDim}).");
        if (unet.Config.InChannels != 2 * vae.Config.LatentChannels
            || unet.Config.OutChannels != vae.Config.LatentChannels)
            throw new LongshotException($"the UNet's in/out channels ({unet.Config.InChannels}/" +
                $"{unet.Config.OutChannels})" +
                $" do not fit the VAE's {vae.Config.LatentChannels} latent channels (twice in, once out).");
        if (unet.Config.AddedTimeIds != 3)
            throw new LongshotException("the UNet's add_embedding does not take three added time ids.");
        Unet = unet; Vae = vae; ImageEncoder = imageEncoder;
        SchedulerConfig = scheduler; FeatureExtractor = featureExtractor;
    }

    /// <summary>Loads a published folder (model_index.json and its five component folders); every file is checked
    /// and a missing or mismatched component is named.</summary>
    /// <param name="extension">An ExVideo extension file loaded on top of the UNet (see
    /// <see cref="ExVideoSvdExtension"/>), or null.</param>
    public static SvdPipeline Load(string folder, string? variant = null, string? extension = null)
    {
        CheckIndex(folder);
        string Part(string name) => Path.Combine(folder, name);
        var unetConfig = SvdUnetConfig.Load(Path.Combine(Part("unet"), "config.json"));
        var unetWeights = ComponentWeights.Open(Part("unet"), variant: variant);
        var unet = extension == null ? SvdUnet.Mapped(unetConfig, unetWeights)
            : ExVideoSvdExtension.Open(extension, unetConfig).Apply(unetConfig, unetWeights);
        return new SvdPipeline(unet,
            SvdVae.Mapped(SvdVaeConfig.Load(Path.Combine(Part("vae"), "config.json")),
                ComponentWeights.Open(Part("vae"), variant: variant)),
            ClipVisionModel.Mapped(ClipVisionConfig.Load(Path.Combine(Part("image_encoder"), "config.json")),
                ComponentWeights.Open(Part("image_encoder"), "model", variant)),
            EulerDiscreteConfig.Load(Path.Combine(Part("scheduler"), "scheduler_config.json")),
            ClipImageProcessorConfig.Load(Path.Combine(Part("feature_extractor"), "preprocessor_config.json")));
    }

    /// <summary>Checks settings against this pipeline (<see cref="SvdSettings.Validate"/>, and with an ExVideo
    /// extension sides that leave the UNet's lowest level 2 latent pixels: its positional convolution pads them by
    /// reflection); a <see cref="SettingException"/> names the setting.</summary>
    public void Validate(SvdSettings settings)
    {
        settings.Validate(Vae.Config.DownFactor);
        if (Unet.Config.ExtensionFrames == null) return;
        int least = 2 * (Vae.Config.DownFactor << (Unet.Config.Levels - 1));
        if (settings.Height < least || settings.Width < least)
            throw new SettingException("Size", $"{settings.Width}x{settings.Height}: with an ExVideo extension both " +
                $"sides must be at least {least} (its positional convolution pads the UNet's lowest level by " +
                "reflection).");
    }

    /// <summary>Checks model_index.json names this pipeline and its components, and that their folders exist.</summary>
    public static void CheckIndex(string folder) =>
        ModelIndex.Check(folder, Components.Select(c => (c.Key, (string?)c.Value)));

    /// <summary>
    /// Generates frames [F, 3, H, W] in [-1, 1] from an image [3, H0, W0] in [-1, 1] (resized to the settings' size
    /// when it differs): <see cref="Denoise"/>, then <see cref="Decode"/>.
    /// </summary>
    public Tensor Generate(Tensor image, SvdSettings settings, SvdNoise? noise = null,
        IProgress<StepProgress>? progress = null, CancellationToken cancel = default, string? runDir = null)
    {
        var latents = Denoise(image, settings, noise, progress, cancel, runDir);
        return Decode(latents, settings.DecodeChunkSize ?? latents.Shape[1], progress, cancel);
    }

    /// <summary>
    /// The denoised latents [1, F, C, h, w] for an image, in numbered steps as the reference computes them. With
    /// <paramref name="runDir"/>, the latents are saved after every step and a rerun of the same job continues from
    /// the last saved step (exactly: the Euler steps carry no other state).
    /// </summary>
    public Tensor Denoise(Tensor image, SvdSettings settings, SvdNoise? noise = null,
        IProgress<StepProgress>? progress = null, CancellationToken cancel = default, string? runDir = null)
    {
        Validate(settings);
        if (image.Rank != 3 || image.Shape[0] != 3)
            throw new ArgumentException("the conditioning image must be [3, H, W], got " +
                $"[{string.Join(", ", image.Shape)}].");
        int frames = settings.Frames ?? Unet.Config.NumFrames, batch = settings.Guided ? 2 : 1;
        if (Unet.Config.ExtensionFrames is { } most && frames > most)
            throw new SettingException("Frames", $"{frames} frames are more than the extension's {most}.");
        using var _ = Tensor.NoGrad();
        var rng = new Rng(settings.Seed);
        var scheduler = new EulerDiscreteScheduler(SchedulerConfig);
        scheduler.SetTimesteps(settings.Steps);
        var latentShape = new[] { 1, frames, Vae.Config.LatentChannels, settings.Height / Vae.Config.DownFactor,
            settings.Width / Vae.Config.DownFactor };
        noise ??= new SvdNoise(Tensor.Randn(rng, latentShape), Tensor.Randn(rng, 1, 3, settings.Height,
            settings.Width));
        if (!noise.Latents.Shape.SequenceEqual(latentShape))
            throw new SettingException("Latents", "the initial latents are " +
                $"[{string.Join(", ", noise.Latents.Shape)}]" +
                $", not [{string.Join(", ", latentShape)}].");

        // 1-3. The image embedding, the image's latents beside every frame, the added time ids.
        var (context, imageLatents, addedTimeIds) = Condition(image, settings, noise.ImageNoise);
        var perFrame = imageLatents.Unsqueeze(1).Expand(batch, frames, imageLatents.Shape[1], imageLatents.Shape[2],
            imageLatents.Shape[3]);

        // 4. The initial latents (or those a previous run of this job saved) and the guidance per frame.
        var latents = noise.Latents * scheduler.InitNoiseSigma;
        var run = runDir == null ? null : new SvdRunFolder(runDir, SvdRunFolder.Identity(this, image, settings, noise));
        int start = 0;
        if (run?.Resume() is { } saved) (start, latents) = saved;
        var guidance = FrameGuidance(settings, frames);

        // 5. Denoise.
        for (int i = start; i < settings.Steps; i++)
        {
            cancel.ThrowIfCancellationRequested();
            var input = settings.Guided ? Ops.Concat(new[] { latents, latents }, 0) : latents;
            input = Ops.Concat(new[] { scheduler.ScaleModelInput(input, i), perFrame }, 2);
            var output = Unet.Forward(input, scheduler.Timesteps[i], context, addedTimeIds);
            if (settings.Guided)
            {
                var uncond = output.Narrow(0, 0, 1);
                output = uncond + guidance * (output.Narrow(0, 1, 1) - uncond);
            }
            latents = scheduler.Step(output, i, latents);
            run?.Save(i + 1, latents);
            progress?.Report(new StepProgress("denoise", i + 1, settings.Steps));
        }
        return latents;
    }

    /// <summary>
    /// What conditions every frame, for a batch of one video or, with guidance, two (the unguided half first, all
    /// zero): the image's CLIP embedding as the context [B, 1, D], the image's latents [B, C, h, w] (noise-augmented
    /// with <paramref name="imageNoise"/>, unscaled) and the added time ids [B, 3] (fps - 1, motion bucket, noise
    /// augmentation).
    /// </summary>
    internal (Tensor Context, Tensor ImageLatents, Tensor AddedTimeIds) Condition(Tensor image, SvdSettings settings,
        Tensor imageNoise)
    {
        using var _ = Tensor.NoGrad();
        int batch = settings.Guided ? 2 : 1;
        // 1. The image embedding (CLIP on the image at its own size), zero for the unguided half.
        var embedding = EncodeImage(image).Unsqueeze(1);
        var context = settings.Guided ? Ops.Concat(new[] { Tensor.Zeros(embedding.Shape), embedding }, 0) : embedding;

        // 2. The image's latents (noise-augmented, unscaled), zero for the unguided half.
        var resized = image.Shape[1] == settings.Height && image.Shape[2] == settings.Width ? image
            : AntialiasedResize.Resize(image, settings.Height, settings.Width);
        var augmented = resized.Unsqueeze(0) + imageNoise * settings.NoiseAugStrength;
        var imageLatents = Vae.Encode(augmented).Mean;
        if (settings.Guided) imageLatents = Ops.Concat(new[] { Tensor.Zeros(imageLatents.Shape), imageLatents }, 0);

        // 3. The added time ids: fps - 1, motion bucket, noise augmentation.
        var ids = Enumerable.Repeat(new float[] { settings.Fps - 1, settings.MotionBucketId,
            settings.NoiseAugStrength }, batch).SelectMany(v => v).ToArray();
        return (context, imageLatents, Tensor.FromArray(ids, batch, 3));
    }

    /// <summary>CLIP image embeddings [1, D] of an image [3, H, W] in [-1, 1].</summary>
    public Tensor EncodeImage(Tensor image)
    {
        using var _ = Tensor.NoGrad();
        int size = ImageEncoder.Config.ImageSize;
        var small = AntialiasedResize.Resize(image, size, size);
        var pixels = FeatureExtractor.Normalize((small + 1f) * 0.5f);
        return ImageEncoder.Forward(pixels.Unsqueeze(0));
    }

    /// <summary>Guidance from the minimum to the maximum over the video's frames, shaped [1, F, 1, 1, 1]; or for
    /// <paramref name="count"/> of them from <paramref name="first"/> on.</summary>
    internal static Tensor FrameGuidance(SvdSettings s, int frames, int first = 0, int? count = null)
    {
        int n = count ?? frames;
        var g = new float[n];
        for (int i = 0; i < n; i++)
        {
            int f = first + i;
            g[i] = frames == 1 ? s.MinGuidance : s.MinGuidance + (s.MaxGuidance - s.MinGuidance) * f / (frames - 1);
        }
        return Tensor.FromArray(g, 1, n, 1, 1, 1);
    }

    /// <summary>Frames [F, 3, H, W] in [-1, 1] from latents [1, F, C, h, w], <paramref name="chunk"/> frames at a
    /// time.</summary>
    public Tensor Decode(Tensor latents, int chunk, IProgress<StepProgress>? progress = null,
        CancellationToken cancel = default)
    {
        // Inference only: without this the autograd graph would keep every activation of the decoder (24 GB for 14
        // frames of 256x256, where 4 GB suffice).
        using var _ = Tensor.NoGrad();
        int frames = latents.Shape[1];
        var flat = latents.Reshape(frames, latents.Shape[2], latents.Shape[3], latents.Shape[4]) *
            (1f / Vae.Config.ScalingFactor);
        var parts = new List<Tensor>();
        for (int start = 0; start < frames; start += chunk)
        {
            cancel.ThrowIfCancellationRequested();
            int n = Math.Min(chunk, frames - start);
            parts.Add(Vae.Decode(flat.Narrow(0, start, n), n));
            progress?.Report(new StepProgress("decode", start + n, frames));
        }
        return Ops.Concat(parts, 0);
    }
}
