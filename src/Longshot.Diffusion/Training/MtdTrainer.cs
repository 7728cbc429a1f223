using System.Diagnostics;
using System.Globalization;
using Longshot.Diffusion.Families;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Text;
using Longshot.Diffusion.Unet;
using Longshot.Diffusion.Vae;
using Longshot.Distributed;
using Longshot.Tensors;
using Longshot.Tensors.Autograd;
using Longshot.Tensors.Devices;
using Longshot.Tensors.Optim;
using Longshot.Video.Store;

namespace Longshot.Diffusion.Training;

/// <summary>Options of `longshot train global|local`.</summary>
public sealed record MtdTrainOptions
{
    /// <summary>The dataset store whose train split the model learns (not needed with
    /// <see cref="Keyframes"/>).</summary>
    public string? Data { get; init; }
    /// <summary>The global role: a <see cref="KeyframeStore"/> to learn from instead of the dataset's episodes (the
    /// keyframes of thousands of stories).</summary>
    public string? Keyframes { get; init; }
    /// <summary>The T-KLVAE model folder whose latents the diffusion model learns.</summary>
    public required string Vae { get; init; }
    public required string Out { get; init; }
    /// <summary>The model the run makes (the base role starts from <see cref="InitFrom"/>; the extend role extends
    /// the base model <see cref="InitFrom"/> to L frames, <see cref="Extension"/>).</summary>
    public TrainingRole Role { get; init; } = TrainingRole.Global;
    /// <summary>Which frames the base and extend roles are given (nothing given: keyframes spread as
    /// <see cref="Spacing"/> says).</summary>
    public GivenFrames Given { get; init; } = GivenFrames.First;
    /// <summary>Frame spacings of the global and local roles (and of a video model given nothing).</summary>
    public FrameSpacing Spacing { get; init; } = FrameSpacing.Requests;
    /// <summary>The extend role's ExVideo settings (its Frames is <see cref="Length"/>).</summary>
    public ExVideo.ExVideoSettings? Extension { get; init; }
    /// <summary>Recompute activations in the backward pass instead of keeping them.</summary>
    public bool GradientCheckpointing { get; init; }
    /// <summary>bfloat16 mixed precision (<see cref="MixedPrecision.Bf16"/>): bfloat16 GEMM, convolution and attention
    /// inputs and kept activations; float32 accumulation, master weights and optimizer state.</summary>
    public bool Bf16 { get; init; }
    /// <summary>Extra loss weight on the latent cells of the characters' boxes (<see cref="FigureWeights"/>; 0: every
    /// cell alike). Needs annotated frames: a keyframe store or a generated dataset.</summary>
    public float FigureWeight { get; init; }
    public int Length { get; init; } = 16;
    public int Depth { get; init; } = 3;
    public int Steps { get; init; } = 1000;
    public int Batch { get; init; } = 1;
    public float LearningRate { get; init; } = 4e-4f;
    public float PromptDropout { get; init; } = 0.1f;
    public float EmaDecay { get; init; } = 0.999f;
    public int CheckpointEvery { get; init; } = 100;
    public ulong Seed { get; init; } = 1;
    /// <summary>
    /// Local model: the fraction of finest-level clips trained with only the first frame given, so the same model can
    /// run the autoregressive baseline (condition on the last frame, generate the next L-1).
    /// </summary>
    public float AutoregressiveFraction { get; init; } = 0.25f;
    /// <summary>
    /// Global model: the fraction of steps at the keyframe stride (L-1)^(m-1); the rest use the finer strides of the
    /// lower levels, still with nothing given, so that a video shorter than one keyframe gap (16 frames, the AR
    /// baseline's first clip) is drawn at its true spacing instead of one the model never saw.
    /// </summary>
    public float GlobalKeyframeFraction { get; init; } = 0.5f;
    /// <summary>Local model: the levels it trains on, in turn (null: every level 2..depth, one model shared across
    /// them; one level: a per-level model as in the paper).</summary>
    public int[]? Levels { get; init; }
    /// <summary>Export the EMA weights (default) or the raw weights of the last step.</summary>
    public bool ExportRaw { get; init; }
    /// <summary>
    /// What the UNet predicts (the paper's Eq. 5 predicts the noise). Our small models' epsilon error at t = 999
    /// (mean square 0.007) becomes an x0 error of std 13 through 1/sqrt(abar), and sampling drifted off to latents of
    /// std 9; v prediction has no such amplification.
    /// </summary>
    public PredictionType PredictionType { get; init; } = PredictionType.VPrediction;
    /// <summary>A trained model folder whose UNet and text-encoder weights a fresh run starts from (same vocabulary and
    /// sizes); the base model to extend for the extend role.</summary>
    public string? InitFrom { get; init; }
    /// <summary>ZeRO stage under mpirun: 0 replicates the optimizer, 1 shards its moments, 2 also the
    /// gradients.</summary>
    public int Zero { get; init; }
    public MaskUnetConfig? Unet { get; init; }
    public TextEncoderConfig? Text { get; init; }
    /// <summary>Where the model trains: its weights, optimizer moments, EMA and each step's tensors live there
    /// (the batches are drawn and the checkpoints written on the host).</summary>
    public Device Device { get; init; } = Device.Cpu;

    /// <summary>Every default in one place (the command line's defaults read it).</summary>
    public static MtdTrainOptions Defaults { get; } = new() { Vae = "", Out = "" };

    /// <summary>Whether the role trains an image-to-video model (base or extend).</summary>
    internal bool IsVideoModel => Role is TrainingRole.Base or TrainingRole.Extend;
}

/// <summary>One progress report of diffusion training.</summary>
public sealed record MtdTrainProgress(long Step, long Steps, float Loss, int Level, double ClipsPerSecond,
    TimeSpan Eta);

/// <summary>
/// Trains an MTD (global or local) directly on long videos: each step draws clips at the level's stride from the
/// dataset store, takes their T-KLVAE latents from the latent cache (built on the first run), noises them at a random
/// timestep per clip and regresses the noise
/// (Eq. 5) or the velocity (v prediction, the default) on the frames to generate; local models get the first and last
/// frames clean as the visual condition.
/// The text encoder trains jointly; captions are dropped (replaced by an empty prompt) with a small probability so
/// that classifier-free guidance works. Checkpoints are atomic and resume exactly; EMA weights are kept.
/// </summary>
public static class MtdTrainer
{
    public const string StateFile = "train_state.safetensors";

    /// <param name="cacheProgress">Reports episodes encoded while the latent cache is built (first run only).</param>
    /// <param name="ranks">The ranks of a data-parallel job (null: this process alone). Each rank trains on its own
    /// <see cref="MtdTrainOptions.Batch"/> clips of every step's batch of Batch x ranks; rank 0 writes checkpoints and
    /// the model.</param>
    public static MtdPipelineParts Train(MtdTrainOptions o, IProgress<MtdTrainProgress>? progress = null,
        CancellationToken ct = default,
        IProgress<(int Done, int Total)>? cacheProgress = null, ICommunicator? ranks = null)
    {
        ranks ??= new SingleProcessCommunicator();
        // 1. Check every option before the latent cache, which can take minutes to build.
        var localLevels = Validate(o, ranks);
        var extension = o.Role == TrainingRole.Extend
            ? ((o.Extension ?? new ExVideo.ExVideoSettings(o.Length)) with { Frames = o.Length }).Validate() : null;
        // 2. The training units: the dataset's episodes (their latent cache) or a keyframe store.
        using var data = OpenData(o, ranks, cacheProgress, ct);
        // 3. The model: fresh, started from a trained one, or the base model extended.
        var statePath = Path.Combine(o.Out, StateFile);
        var parts = BuildModel(o, data, extension, resuming: File.Exists(statePath));
        parts.Unet.GradientCheckpointing = o.GradientCheckpointing;
        // 4. Optimizer and EMA, from the checkpoint when there is one.
        var all = parts.Parameters;
        var dp = new DataParallel(ranks, all.Trainable, o.Zero,
            ps => new AdamW(ps, o.LearningRate, weightDecay: 0.01f));
        var ema = new Ema(all.Trainable, o.EmaDecay);
        var rng = new Rng(o.Seed);
        if (ranks.Rank == 0) Directory.CreateDirectory(o.Out);
        long step = 0;
        if (File.Exists(statePath))
        {
            CheckResumable(o, statePath, data.Units);
            step = TrainingCheckpoint.Load(statePath, all, dp.Optimizer, rng, ema).Step;
        }
        // Moved after a resume has loaded the host copy: the optimizer's and EMA's state follow on first use.
        parts.ToDevice(o.Device);
        // 5. The steps, each checkpointed atomically every CheckpointEvery.
        var sw = Stopwatch.StartNew();
        long first = step;
        while (step < o.Steps)
        {
            ct.ThrowIfCancellationRequested();
            int level = LevelOf(o, step, localLevels, rng);
            Tensor loss;
            GradStore grads;
            using (o.Bf16 ? MixedPrecision.Bf16() : null)
            {
                loss = StepLoss(o, parts, data.Units, parts.Schedule, level, rng, ranks.Size, ranks.Rank);
                NumericCheck.ThrowIfNotFinite(loss, step);
                grads = loss.Backward();
            }
            dp.Step(grads, 1.0);
            ema.Update(step);
            step++;
            if (step % o.CheckpointEvery == 0 || step == o.Steps)
                dp.SaveCheckpoint(statePath, all, step, rng, ema, CheckpointRecord(o, localLevels, data.Units));
            double cps = (step - first) * o.Batch * ranks.Size / sw.Elapsed.TotalSeconds;
            // Each rank's loss is its share of the batch's: the sum is the batch's loss.
            var batchLoss = new[] { (double)loss.Item() };
            ranks.AllReduceSum(batchLoss.AsSpan());
            progress?.Report(new MtdTrainProgress(step, o.Steps, (float)batchLoss[0], level, cps,
                TimeSpan.FromSeconds((o.Steps - step) * o.Batch * ranks.Size / Math.Max(1e-9, cps))));
        }
        // 6. Export the EMA weights (what sampling should use) unless the raw ones are asked for.
        parts.ToDevice(Device.Cpu);
        if (!o.ExportRaw) all.Load(ema.Weights(), strict: false);
        if (ranks.Rank == 0) parts.Save(o.Out);
        return parts;
    }

    /// <summary>Throws a <see cref="SettingException"/> naming the first option that cannot work; returns the levels
    /// a local model trains on.</summary>
    private static int[] Validate(MtdTrainOptions o, ICommunicator ranks)
    {
        if (o.IsVideoModel && o.InitFrom == null)
            throw new SettingException(nameof(o.InitFrom), o.Role == TrainingRole.Base
                ? "the base role starts from a trained model; name it." : "the extend role needs the base model.");
        if (o.Given == GivenFrames.Ends && o.Depth < 2)
            throw new SettingException(nameof(o.Depth), "frames given at both ends need a depth of at least 2.");
        if (o.Role == TrainingRole.Local && o.Depth < 2)
            throw new SettingException(nameof(o.Depth), "the local role needs a depth of at least 2.");
        if (o.Levels is { } ls && (ls.Length == 0 || ls.Any(k => k < 2 || k > o.Depth)))
            throw new SettingException(nameof(o.Levels), $"levels must be between 2 and the depth {o.Depth}, got " +
                $"{string.Join(",", ls)}.");
        o.Unet?.Validate();
        if (o.Length < 3 || o.Steps < 0 || o.Batch < 1 || !float.IsFinite(o.LearningRate) || o.LearningRate <= 0)
            throw new SettingException(nameof(o.Length), "training needs length >= 3, steps >= 0, batch >= 1 and a " +
                "positive learning rate.");
        if (!float.IsFinite(o.FigureWeight) || o.FigureWeight < 0)
            throw new SettingException(nameof(o.FigureWeight), $"must be 0 or more, got {o.FigureWeight}.");
        if (o.InitFrom != null)
            try { ModelFamilies.Require<MtdPipelineParts>(o.InitFrom); }
            catch (LongshotException e) { throw new SettingException(nameof(o.InitFrom), e.Message); }
        if (File.Exists(o.Out)) throw new SettingException(nameof(o.Out), $"{o.Out} is a file, not a folder.");
        if (o.Device != Device.Cpu && (ranks.Size > 1 || o.Bf16))
            throw new SettingException(nameof(o.Device), $"{o.Device}: " + (ranks.Size > 1
                ? "training over ranks runs on the CPU only so far." : "bfloat16 mixed precision is a CPU scheme; " +
                "a device trains in float32."));
        if (o.Keyframes != null && (o.IsVideoModel || o.Spacing != FrameSpacing.Requests))
            throw new SettingException(nameof(o.Keyframes), "only the global and local roles with request spacing " +
                "learn from a keyframe store.");
        if ((o.Data == null) == (o.Keyframes == null))
            throw new SettingException(nameof(o.Data), $"the {o.Role.Name()} role learns from a dataset" +
                $"{(o.IsVideoModel ? "" : " or a keyframe store")}{(o.Data != null ? ", not both" : "")}.",
                o.IsVideoModel ? Array.Empty<string>() : new[] { nameof(o.Keyframes) });
        return o.Levels ?? Enumerable.Range(2, Math.Max(0, o.Depth - 1)).ToArray();
    }

    /// <summary>What a run learns from (a dataset's episodes or a keyframe store) and the dataset store to close at
    /// the end.</summary>
    private sealed class TrainingData(DatasetStore? store, ITrainingUnits units) : IDisposable
    {
        public ITrainingUnits Units { get; } = units;
        public void Dispose() => store?.Dispose();
    }

    /// <summary>Opens the dataset or keyframe store; rank 0 builds the latent cache and the other ranks read
    /// it.</summary>
    private static TrainingData OpenData(MtdTrainOptions o, ICommunicator ranks,
        IProgress<(int Done, int Total)>? cacheProgress, CancellationToken ct)
    {
        if (o.Keyframes != null)
        {
            return new TrainingData(null, new KeyframeUnits(OpenKeyframes(o)));
        }
        var store = DatasetStore.Open(o.Data!);
        try
        {
            var sampler = new ClipSampler(store, Splits.Train);
            if (o.FigureWeight > 0 && sampler.Episodes.Any(e => e.Annotation(0) == null))
                throw new SettingException(nameof(o.FigureWeight), $"{o.Data} has episodes without annotations " +
                    "(imported footage); figures are known only in generated data.");
            if (ranks.Rank != 0) ranks.Barrier();
            var latents = LatentCache.Build(store, sampler.Episodes, o.Vae, ranks.Rank == 0 ? cacheProgress : null,
                ct);
            if (ranks.Rank == 0 && ranks.Size > 1) ranks.Barrier();
            return new TrainingData(store, new EpisodeUnits(store, sampler, latents));
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>The model a run trains: the base model extended (extend), the init model with a frame embedding
    /// added (base), or a fresh model, started from the init model's weights when a fresh run names one.</summary>
    private static MtdPipelineParts BuildModel(MtdTrainOptions o, TrainingData data,
        ExVideo.ExVideoSettings? extension, bool resuming)
    {
        if (o.Role == TrainingRole.Extend)
            return ExVideo.ExVideoExtension.Extend(MtdPipelineParts.Load(o.InitFrom!), extension!);
        var latentChannels = AutoencoderKLConfig.Load(Path.Combine(o.Vae, "config.json")).LatentChannels;
        var tokenizer = WordTokenizer.Build(data.Units.Captions, o.Text?.MaxLength ?? 48);
        var unetConfig = o.Role == TrainingRole.Base
            ? MaskUnetConfig.Load(Path.Combine(o.InitFrom!, "unet", "config.json")) with
                { FramePositionEmbedding = true, NumFrames = o.Length }
            : (o.Unet ?? new MaskUnetConfig { InChannels = latentChannels, OutChannels = latentChannels })
                with { NumFrames = o.Length };
        var parts = MtdPipelineParts.Create(unetConfig,
            (o.Text ?? new TextEncoderConfig()) with { VocabSize = tokenizer.VocabularySize,
                MaxLength = tokenizer.MaxLength }, tokenizer,
            new SchedulerConfig { PredictionType = o.PredictionType.Name() }, o.Seed);
        // A resumed run takes its weights from its checkpoint.
        if (o.InitFrom != null && !resuming)
            parts.Parameters.Load(MtdPipelineParts.Load(o.InitFrom).Parameters.StateDict(),
                strict: o.Role != TrainingRole.Base, o.InitFrom);
        return parts;
    }

    /// <summary>Refuses a checkpoint of another run in the output folder. Checkpoints written before a setting
    /// existed hold its behaviour then.</summary>
    private static void CheckResumable(MtdTrainOptions o, string statePath, ITrainingUnits units)
    {
        void RequireSame(string record, string before, string now)
        {
            var then = TrainingCheckpoint.ReadExtra(statePath, record) ?? before;
            if (then != now)
                throw new SettingException(nameof(o.Out), $"{statePath} belongs to a run with {record} {then}, not " +
                    $"{now}; train into another folder.");
        }
        RequireSame("role", "", o.Role.Name());
        RequireSame("prediction", PredictionType.Epsilon.Name(), o.PredictionType.Name());
        if (!o.IsVideoModel || o.Given == GivenFrames.None)
            RequireSame("spacing", FrameSpacing.Hierarchy.Name(), o.Spacing.Name());
        if (o.Role == TrainingRole.Global) RequireSame("keyframes", "none", units.Description);
        if (o.IsVideoModel) RequireSame("given", GivenFrames.First.Name(), o.Given.Name());
        RequireSame("figure-weight", "0", Invariant(o.FigureWeight));
    }

    /// <summary>The level a step trains: 1 for the global role (or one of the finer strides in hierarchy spacing),
    /// the local levels in turn, and for a video model its keyframes or consecutive frames.</summary>
    private static int LevelOf(MtdTrainOptions o, long step, int[] localLevels, Rng rng) => o.Role switch
    {
        TrainingRole.Global => o.Spacing == FrameSpacing.Requests ? 1 : GlobalLevel(o, rng),
        TrainingRole.Local => localLevels[(int)(step % localLevels.Length)],
        _ => o.Given == GivenFrames.None ? 1 : o.Depth,
    };

    /// <summary>What a checkpoint records of the run, so a rerun with other settings is refused.</summary>
    private static Dictionary<string, string> CheckpointRecord(MtdTrainOptions o, int[] localLevels,
        ITrainingUnits units) => new()
    {
        ["role"] = o.Role.Name(), ["length"] = o.Length.ToString(CultureInfo.InvariantCulture),
        ["depth"] = o.Depth.ToString(CultureInfo.InvariantCulture), ["levels"] = string.Join(",", localLevels),
        ["prediction"] = o.PredictionType.Name(), ["given"] = o.Given.Name(), ["spacing"] = o.Spacing.Name(),
        ["keyframes"] = units.Description, ["figure-weight"] = Invariant(o.FigureWeight),
    };

    /// <summary>
    /// Held-out noise-prediction loss of a trained model at one level: the mean of <see cref="StepLoss"/> over
    /// <paramref name="clips"/> clips of the validation split, with fixed clips, timesteps and noise (same seed, same
    /// number), no prompt dropout. Lower is better; comparable between models that share the VAE.
    /// </summary>
    public static double ValidationLoss(MtdPipelineParts parts, string data, string vae, TrainingRole role, int level,
        int depth, int length, int clips = 64,
        ulong seed = 1234, CancellationToken ct = default)
    {
        using var store = DatasetStore.Open(data);
        var sampler = new ClipSampler(store, Splits.Validation);
        var latents = LatentCache.Build(store, sampler.Episodes, vae, null, ct);
        var o = new MtdTrainOptions { Data = data, Vae = vae, Out = "", Role = role, Length = length, Depth = depth,
            PromptDropout = 0, AutoregressiveFraction = 0, Spacing = FrameSpacing.Hierarchy };
        var rng = new Rng(seed);
        var source = new EpisodeUnits(store, sampler, latents);
        using var _ = Tensor.NoGrad();
        double sum = 0;
        for (int i = 0; i < clips; i++)
        {
            ct.ThrowIfCancellationRequested();
            sum += StepLoss(o, parts, source, parts.Schedule, level, rng).Item();
        }
        return sum / clips;
    }

    /// <summary>Loads the keyframe store of a global run and checks it matches the run's VAE and L.</summary>
    private static KeyframeStore OpenKeyframes(MtdTrainOptions o)
    {
        var k = KeyframeStore.Load(o.Keyframes!);
        if (k.Settings.Vae != LatentCache.VaeHash(o.Vae))
            throw new SettingException(nameof(o.Keyframes), $"{o.Keyframes} was encoded by another VAE than " +
                $"{o.Vae}; build it again with this VAE.");
        if (k.Settings.Length != o.Length)
            throw new SettingException(nameof(o.Keyframes), $"{o.Keyframes} holds units of {k.Settings.Length} " +
                $"keyframes, not the run's length {o.Length}.");
        bool global = o.Role == TrainingRole.Global;
        bool fits = global ? k.Settings.Levels.All(l => l == 1) : k.Settings.Levels.All(l => l >= 2 && l <= o.Depth);
        if (!fits)
            throw new SettingException(nameof(o.Keyframes), $"{o.Keyframes} holds units of levels " +
                $"{string.Join(",", k.Settings.Levels)}; the {o.Role.Name()} model learns level " +
                $"{(global ? "1" : $"2 to {o.Depth}")}.");
        return k;
    }

    private static int GlobalLevel(MtdTrainOptions o, Rng rng) =>
        o.Depth == 1 || rng.NextFloat() < o.GlobalKeyframeFraction ? 1 : 2 + rng.NextInt(o.Depth - 1);

    /// <summary>The noise-regression loss of one batch of clips at one level.</summary>
    /// <remarks>
    /// In a job of <paramref name="ranks"/> ranks every rank draws the whole batch of Batch x ranks clips (their
    /// places, prompts, timesteps and noise: cheap, and it keeps every rank's generator in step with one process's),
    /// then runs the model on its own Batch clips only; the loss is normalised by the whole batch, so the ranks'
    /// losses add up to the one-process loss.
    /// </remarks>
    internal static Tensor StepLoss(MtdTrainOptions o, MtdPipelineParts parts, ITrainingUnits source,
        NoiseSchedule schedule, int level, Rng rng, int ranks = 1, int rank = 0)
    {
        int total = o.Batch * ranks, from = rank * o.Batch;
        var clips = source.Draw(o, level, total, rng);
        int l = clips[0].Clip.Frames.Length, n = o.Batch * l;
        var captions = clips.SelectMany(c =>
            c.Clip.Frames.Select((_, i) => rng.NextFloat() < o.PromptDropout ? "" : c.Caption(i))).ToList();
        var allTimesteps = Enumerable.Range(0, total).Select(_ => rng.NextInt(schedule.T)).ToArray();
        float generated = clips.SelectMany(c => c.Clip.Given).Count(g => !g);
        // This rank's clips. Latents from the cache (encoded once over consecutive frames by the frozen VAE).
        var own = clips.GetRange(from, o.Batch);
        var device = parts.Device;
        var x0 = Ops.Concat(own.Select(c => c.Latents()).ToList(), 0).ToDevice(device);
        var prompts = parts.EncodePrompts(captions.GetRange(from * l, n));
        var timesteps = allTimesteps[from..(from + o.Batch)];
        var noiseShape = x0.Shape.ToArray();
        noiseShape[0] = total * l;
        var noise = Tensor.Randn(rng, noiseShape);
        if (ranks > 1) noise = noise.Narrow(0, from * l, n).Contiguous();
        noise = noise.ToDevice(device);
        var perFrame = timesteps.SelectMany(t => Enumerable.Repeat(t, l)).ToArray();
        var xt = schedule.AddNoise(x0, noise, perFrame);
        var target = schedule.TrainingTarget(x0, noise, perFrame);
        var given = own.SelectMany(c => c.Clip.Given).ToArray();
        var (cond, mask) = MtdConditions.Build(x0, given);
        var pred = parts.Unet.Forward(new MtdInput(xt, timesteps, prompts, cond, mask,
            own[0].Clip.Frames.Select(f => f - own[0].Clip.Frames[0]).ToArray()));
        // Loss on the frames to generate (given frames are replaced by their condition at sampling time), per
        // generated frame of the whole batch.
        if (o.FigureWeight == 0)
        {
            var weight = Tensor.FromArray(given.Select(g => g ? 0f : 1f).ToArray(), n, 1, 1, 1).ToDevice(device);
            return Ops.Sum(Ops.Square(pred - target) * weight) / (generated * x0.Numel / n);
        }
        // Figures weigh more; normalised by the whole batch's weights, so the ranks' losses still add up.
        int h = x0.Shape[2], w = x0.Shape[3];
        var allWeights = clips.SelectMany(c => c.Clip.Given.Select(g => g ? 0f : 1f)).ToArray();
        var all = FigureWeights.Batch(clips.SelectMany(c => c.Annotations()).ToList(), allWeights,
            source.FrameSize.Width, source.FrameSize.Height, w, h, o.FigureWeight);
        var ownWeights = all.Narrow(0, from * l, n).Contiguous().ToDevice(device);
        float weightSum = Ops.Sum(all).Item() * x0.Shape[1];
        return Ops.Sum(Ops.Square(pred - target) * ownWeights) / weightSum;
    }

    private static string Invariant(float x) => x.ToString(CultureInfo.InvariantCulture);

}
