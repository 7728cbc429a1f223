using Longshot.Diffusion.Clip;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Svd;
using Longshot.Diffusion.Text;
using Longshot.Diffusion.Unet3D;
using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.TextToVideo;

/// <summary>What a run can be given instead of drawing it from the seed: the initial latents [1, C, F, h, w], and
/// for a stochastic sampler the noise of each step [F, C, h, w].</summary>
public sealed record TextToVideoNoise(Tensor Latents, IReadOnlyList<Tensor>? StepNoise = null);

/// <summary>
/// diffusers' TextToVideoSDPipeline over a published folder (ModelScope's text-to-video-ms-1.7b, zeroscope, and
/// VideoCrafter2 in Video-Infinity's port with its frame-rate condition): the prompt through the CLIP tokenizer and
/// text encoder, classifier-free guidance against the negative (or empty) prompt, the folder's scheduler on latents
/// [1, C, F, h, w], and the image VAE decoding every frame on its own.
/// </summary>
public sealed class TextToVideoPipeline
{
    /// <summary>The pipeline classes published folders record.</summary>
    public const string Class = "TextToVideoSDPipeline", VideoCrafterClass = "VideoCrafterPipeline";

    /// <summary>The components model_index.json must name.</summary>
    public static readonly IReadOnlyList<string> Components = new[] { "unet", "vae", "text_encoder", "tokenizer",
        "scheduler" };

    public Unet3DModel Unet { get; }
    public AutoencoderKL Vae { get; }
    public ClipTextModel TextEncoder { get; }
    public ClipTokenizer Tokenizer { get; }
    public DiffusersSchedulerConfig SchedulerConfig { get; set; }

    /// <summary>Told once per prompt when it is longer than the text encoder reads.</summary>
    public Action<string>? Warning { get; set; }

    public TextToVideoPipeline(Unet3DModel unet, AutoencoderKL vae, ClipTextModel textEncoder, ClipTokenizer tokenizer,
        DiffusersSchedulerConfig scheduler)
    {
        if (unet.Config.CrossAttentionDim != textEncoder.Config.HiddenSize)
            throw new LongshotException($"the UNet's cross_attention_dim ({unet.Config.CrossAttentionDim}) is not " +
                $"the text encoder's hidden_size ({textEncoder.Config.HiddenSize}).");
        if (unet.Config.InChannels != vae.Config.LatentChannels || unet.Config.OutChannels != vae.Config.LatentChannels)
            throw new LongshotException($"the UNet's in/out channels ({unet.Config.InChannels}/" +
                $"{unet.Config.OutChannels}) are not the VAE's {vae.Config.LatentChannels} latent channels.");
        if (tokenizer.VocabularySize > textEncoder.Config.VocabSize)
            throw new LongshotException($"the tokenizer's {tokenizer.VocabularySize} tokens do not fit the text " +
                $"encoder's vocab_size {textEncoder.Config.VocabSize}.");
        Unet = unet; Vae = vae; TextEncoder = textEncoder; Tokenizer = tokenizer; SchedulerConfig = scheduler;
    }

    /// <summary>Loads a published folder (model_index.json and its five component folders) through the model-family
    /// registry; a missing or mismatched component is named.</summary>
    public static TextToVideoPipeline Load(string folder, string? variant = null)
    {
        CheckIndex(folder);
        string Part(string name) => Path.Combine(folder, name);
        return new TextToVideoPipeline(
            Unet3DModel.Mapped(Unet3DConfig.Load(Path.Combine(Part("unet"), "config.json")),
                ComponentWeights.Open(Part("unet"), variant: variant)),
            AutoencoderKL.Mapped(AutoencoderKLConfig.Load(Path.Combine(Part("vae"), "config.json")),
                ComponentWeights.Open(Part("vae"), variant: variant)),
            ClipTextModel.Mapped(ClipTextConfig.Load(Path.Combine(Part("text_encoder"), "config.json")),
                ComponentWeights.Open(Part("text_encoder"), "model", variant)),
            Families.ModelFamilies.Load<ClipTokenizer>(Part("tokenizer")),
            DiffusersSchedulerConfig.Load(Path.Combine(Part("scheduler"), "scheduler_config.json")));
    }

    /// <summary>Checks model_index.json names this pipeline and its components, and that their folders exist.</summary>
    public static void CheckIndex(string folder) =>
        ModelIndex.Check(folder, Components.Select(c => (c, (string?)null)));

    /// <summary>Frames [F, 3, H, W] in [-1, 1] for a prompt: <see cref="Denoise"/>, then <see cref="Decode"/>.
    /// </summary>
    public Tensor Generate(TextToVideoSettings settings, TextToVideoNoise? noise = null,
        IProgress<StepProgress>? progress = null, CancellationToken cancel = default, string? runDir = null)
    {
        var latents = Denoise(settings, noise, progress, cancel, runDir);
        return Decode(latents, settings.DecodeChunkSize ?? latents.Shape[2], progress, cancel);
    }

    /// <summary>The prompt's text-encoder states [1, L, C], as the pipeline encodes it (padded to the tokenizer's
    /// length, cut as the reference cuts).</summary>
    public Tensor EncodePrompt(string prompt)
    {
        var tokens = Tokenizer.Tokenize(prompt);
        if (tokens.Truncated)
            Warning?.Invoke($"the prompt has {tokens.TextTokens} tokens; the text encoder reads the first " +
                $"{Tokenizer.MaxLength - 2}.");
        return TextEncoder.Forward(new[] { Tokenizer.Pad(tokens.Ids) });
    }

    /// <summary>Each distinct prompt's text-encoder states [1, L, C], encoded once.</summary>
    internal Dictionary<string, Tensor> EncodeDistinct(IEnumerable<string> prompts) =>
        prompts.Distinct().ToDictionary(p => p, EncodePrompt);

    /// <summary>The text-encoder states of frames [first, first + count): [1, L, C] for one prompt, else one row per
    /// frame [count, L, C]; from <paramref name="encoded"/> when given (it must hold those frames' prompts), else each
    /// distinct prompt encoded once here.</summary>
    internal Tensor EncodePrompts(TextToVideoSettings settings, int first, int count,
        IReadOnlyDictionary<string, Tensor>? encoded = null)
    {
        encoded ??= EncodeDistinct(Enumerable.Range(first, count).Select(settings.PromptAt));
        if (settings.FramePrompts == null) return encoded[settings.Prompt];
        return Ops.Concat(Enumerable.Range(first, count).Select(f => encoded[settings.PromptAt(f)]).ToList(), 0);
    }

    /// <summary>
    /// The denoised latents [1, C, F, h, w], in numbered steps as the reference computes them. With
    /// <paramref name="runDir"/>, the latents, the sampler's state and the random stream's position are saved after
    /// every step, and a rerun of the same job continues from the last saved step with the same result.
    /// </summary>
    public Tensor Denoise(TextToVideoSettings settings, TextToVideoNoise? noise = null,
        IProgress<StepProgress>? progress = null, CancellationToken cancel = default, string? runDir = null)
    {
        int down = Vae.Config.DownFactor;
        settings.Validate(down);
        using var _ = Tensor.NoGrad();
        var rng = new Rng(settings.Seed);
        int sample = Unet.Config.SampleSize ?? 32;
        int h = (settings.Height ?? sample * down) / down, w = (settings.Width ?? sample * down) / down;
        int c = Vae.Config.LatentChannels, frames = settings.Frames;
        var shape = new[] { 1, c, frames, h, w };
        var latents = noise?.Latents ?? Tensor.Randn(rng, shape);
        if (!latents.Shape.SequenceEqual(shape))
            throw new SettingException("Latents", $"the initial latents are [{string.Join(", ", latents.Shape)}], " +
                $"not [{string.Join(", ", shape)}].");

        // 1. The prompt (or each frame's) and, for guidance, the negative (or empty) prompt.
        var context = EncodePrompts(settings, 0, frames);
        if (settings.Guided)
        {
            var negative = EncodePrompt(settings.NegativePrompt ?? "");
            if (context.Shape[0] > 1) negative = SvdUnet.RepeatFrames(negative, frames);
            context = Ops.Concat(new[] { negative, context }, 0);
        }

        // 2. The schedule.
        var scheduler = StepSchedulers.Create(SchedulerConfig);
        scheduler.SetTimesteps(settings.Steps);
        float? fps = Unet.Config.HasFps ? settings.Fps : null;

        // 3. What an earlier run of this job finished.
        var run = runDir == null ? null
            : new StepRunFolder(runDir, "t2v-state.safetensors", Identity(settings, latents));
        int start = 0;
        if (run?.Resume() is { } saved)
        {
            start = saved.Step;
            latents = saved.Tensors["latents"];
            scheduler.LoadState(saved.Tensors);
            rng.Restore(ulong.Parse(saved.Metadata["rng"], System.Globalization.CultureInfo.InvariantCulture));
        }

        // 4. Denoise: the model on both halves, guidance, a scheduler step on frames as a batch [F, C, h, w].
        for (int i = start; i < scheduler.Timesteps.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            var input = settings.Guided ? Ops.Concat(new[] { latents, latents }, 0) : latents;
            var output = Unet.Forward(input, scheduler.Timesteps[i], context, fps);
            if (settings.Guided)
            {
                var uncond = output.Narrow(0, 0, 1);
                output = uncond + (output.Narrow(0, 1, 1) - uncond) * settings.GuidanceScale;
            }
            int step = i;
            Tensor StepNoise() => noise?.StepNoise is { } given ? given[step] : Tensor.Randn(rng, frames, c, h, w);
            var next = scheduler.Step(FramesAsBatch(output), i, FramesAsBatch(latents), StepNoise);
            latents = next.Reshape(1, frames, c, h, w).Permute(0, 2, 1, 3, 4).Contiguous();
            run?.Save(i + 1, new Dictionary<string, Tensor>(scheduler.SaveState()) { ["latents"] = latents },
                new Dictionary<string, string>
                {
                    ["rng"] = rng.Counter.ToString(System.Globalization.CultureInfo.InvariantCulture),
                });
            progress?.Report(new StepProgress("denoise", i + 1, scheduler.Timesteps.Count));
            AllocationBudget.Checkpoint();
        }
        return latents;
    }

    /// <summary>The job's identity: a hash of everything its latents depend on.</summary>
    private string Identity(TextToVideoSettings settings, Tensor initialLatents) => JobIdentity.Of(
        new object[] { Unet.Config, SchedulerConfig, settings with { DecodeChunkSize = null } },
        new[] { initialLatents });

    /// <summary>[1, C, F, h, w] to [F, C, h, w].</summary>
    internal static Tensor FramesAsBatch(Tensor x) =>
        x.Permute(0, 2, 1, 3, 4).Contiguous().Reshape(x.Shape[2], x.Shape[1], x.Shape[3], x.Shape[4]);

    /// <summary>Frames [F, 3, H, W] from latents [1, C, F, h, w], <paramref name="chunk"/> frames per VAE call (each
    /// frame is decoded on its own either way).</summary>
    public Tensor Decode(Tensor latents, int chunk, IProgress<StepProgress>? progress = null,
        CancellationToken cancel = default)
    {
        using var _ = Tensor.NoGrad();
        var z = Vae.UnscaleLatents(FramesAsBatch(latents));
        int frames = z.Shape[0];
        var parts = new List<Tensor>();
        for (int f = 0; f < frames; f += chunk)
        {
            cancel.ThrowIfCancellationRequested();
            parts.Add(Vae.Decode(z.Narrow(0, f, Math.Min(chunk, frames - f)).Contiguous()));
            progress?.Report(new StepProgress("decode", Math.Min(frames, f + chunk), frames));
        }
        return parts.Count == 1 ? parts[0] : Ops.Concat(parts, 0);
    }
}
