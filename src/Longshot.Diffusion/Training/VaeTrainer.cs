using System.Diagnostics;
using Longshot.Diffusion.Vae;
using Longshot.Distributed;
using Longshot.Tensors;
using Longshot.Tensors.Devices;
using Longshot.Tensors.Optim;
using Longshot.Video.Imaging;
using Longshot.Video.Store;

namespace Longshot.Diffusion.Training;

/// <summary>Options of `longshot train vae`.</summary>
public sealed record VaeTrainOptions
{
    /// <summary>ZeRO stage under mpirun: 0 replicates the optimizer, 1 shards its moments, 2 also the
    /// gradients.</summary>
    public int Zero { get; init; }
    public required string Data { get; init; }
    public required string Out { get; init; }
    /// <summary>The stage: the image VAE, the T-KLVAE on clips, or the decoder of <see cref="InitFrom"/> fine-tuned
    /// on clips with its encoder frozen, so the latent space (and every diffusion model trained on it) stays valid;
    /// the scaling factor is kept.</summary>
    public VaeStage Stage { get; init; } = VaeStage.Image;
    public int Steps { get; init; } = 2000;
    /// <summary>Frames per step (stage 1) or clips per step (stage 2).</summary>
    public int Batch { get; init; } = 8;
    public int ClipFrames { get; init; } = 8;
    public float LearningRate { get; init; } = 1e-3f;
    public float KlWeight { get; init; } = 1e-6f;
    public int CheckpointEvery { get; init; } = 200;
    public int ValidateEvery { get; init; } = 500;
    public ulong Seed { get; init; } = 1;
    /// <summary>A model folder to start from (stage 2: the stage-1 image VAE; its weights load by name).</summary>
    public string? InitFrom { get; init; }
    /// <summary>Architecture for a fresh start (stage 1 default: the small Toonworld VAE).</summary>
    public AutoencoderKLConfig? Config { get; init; }
    /// <summary>Stage 2: also train the spatial layers (default: only the temporal ones, as the paper keeps the image
    /// VAE intact).</summary>
    public bool TrainSpatial { get; init; }
    /// <summary>Stage 2 ablation: "identity" (T-KLVAE) or "random" (T-KLVAE-R) initialisation of the temporal
    /// layers.</summary>
    public string TemporalInit { get; init; } = "identity";
    /// <summary>Stage 2 ablation "KLVAE": keep frames independent (no temporal layers) but train on the same
    /// clips.</summary>
    public bool NoTemporal { get; init; }
    /// <summary>Where the model trains (weights, optimizer moments and each step's tensors); clips are drawn,
    /// validated and checkpointed on the host.</summary>
    public Device Device { get; init; } = Device.Cpu;

    /// <summary>Every default in one place (the command line's defaults read it).</summary>
    public static VaeTrainOptions Defaults { get; } = new() { Data = "", Out = "" };
}

/// <summary>One progress report of VAE training.</summary>
public sealed record VaeTrainProgress(long Step, long Steps, float Loss, double Psnr, double FramesPerSecond,
    TimeSpan Eta, VaeValidation? Validation);

/// <summary>Validation figures: mean PSNR (dB), SSIM and temporal-consistency error (0-255 levels).</summary>
public sealed record VaeValidation(double Psnr, double Ssim, double TemporalError, int Frames);

/// <summary>
/// Trains the VAE on a dataset store: stage 1 (image KL-VAE, frames independently) or stage 2 (T-KLVAE on clips).
/// Checkpoints (weights, AdamW state, step, RNG position) are written atomically every few hundred steps and at the
/// end; rerunning the same command resumes exactly where it stopped. The trained model is exported as a diffusers
/// folder in OUT/vae.
/// </summary>
public static class VaeTrainer
{
    public const string StateFile = "train_state.safetensors";

    /// <param name="ranks">The ranks of a data-parallel job (null: this process alone): each trains on its own
    /// <see cref="VaeTrainOptions.Batch"/> clips of a batch of Batch x ranks; rank 0 validates and writes.</param>
    public static (AutoencoderKL Model, VaeValidation Validation) Train(VaeTrainOptions o,
        IProgress<VaeTrainProgress>? progress = null, CancellationToken ct = default, ICommunicator? ranks = null)
    {
        ranks ??= new SingleProcessCommunicator();
        bool decoderOnly = o.Stage == VaeStage.Decoder;
        if (decoderOnly && o.InitFrom == null)
            throw new SettingException(nameof(o.InitFrom), "the decoder stage tunes a trained VAE's decoder; name " +
                "the VAE.");
        if (o.Steps < 1 || o.Batch < 1 || o.ClipFrames < 1)
            throw new SettingException(nameof(o.Steps), "steps, batch and clip frames must be >= 1.");
        if (o.Device != Device.Cpu && ranks.Size > 1)
            throw new SettingException(nameof(o.Device), $"{o.Device}: training over ranks runs on the CPU only so " +
                "far.");
        using var store = DatasetStore.Open(o.Data);
        var train = new ClipSampler(store, Splits.Train);
        var valid = new ClipSampler(store, store.Split(Splits.Validation).Any() ? Splits.Validation : Splits.Train);
        var model = decoderOnly ? AutoencoderKL.Load(o.InitFrom!) : BuildModel(o, o.Stage == VaeStage.Video, store);
        bool video = o.Stage == VaeStage.Video || decoderOnly && model.Config.Temporal;
        int frames = video ? o.ClipFrames : 1;
        if (decoderOnly) model.Parameters.TrainOnly(AutoencoderKL.IsDecoder);
        else if (video && !o.NoTemporal && !o.TrainSpatial) model.Parameters.TrainOnly(AutoencoderKL.IsTemporal);
        var dp = new DataParallel(ranks, model.Parameters.Trainable, o.Zero,
            ps => new AdamW(ps, o.LearningRate, weightDecay: 0f));
        var opt = dp.Optimizer;
        var schedule = new WarmupCosine(o.LearningRate, Math.Min(100, o.Steps / 10), o.Steps, o.LearningRate * 0.1f);
        var rng = new Rng(o.Seed);
        if (ranks.Rank == 0) Directory.CreateDirectory(o.Out);
        var statePath = Path.Combine(o.Out, StateFile);
        long step = 0;
        if (File.Exists(statePath))
        {
            var stage = TrainingCheckpoint.ReadExtra(statePath, "stage");
            if (stage != o.Stage.Name())
                throw new SettingException(nameof(o.Out), $"{statePath} belongs to a {stage} run, not the " +
                    $"{o.Stage.Name()} stage; train into another folder.");
            step = TrainingCheckpoint.Load(statePath, model.Parameters, opt, rng).Step;
        }
        // Moved after a resume has loaded the host copy: the optimizer's state follows on first use.
        model.Parameters.ToDevice(o.Device);
        var valClips = ValidationClips(valid, video ? o.ClipFrames : 4);
        var sw = Stopwatch.StartNew();
        long startStep = step;
        VaeValidation? lastVal = null;
        while (step < o.Steps)
        {
            ct.ThrowIfCancellationRequested();
            opt.LearningRate = schedule.At(step);
            // Every rank draws the whole batch's clips and noise (keeping the generators in step) and encodes its part.
            var (from, count) = dp.Part(o.Batch);
            var x = train.Sample(rng, o.Batch * ranks.Size, video ? o.ClipFrames : 1, part: (from, count))
                .ToDevice(o.Device);
            DiagonalGaussian dist;
            // A frozen encoder needs no graph; its KL term is a constant then and left out.
            using (decoderOnly ? Tensor.NoGrad() : null) dist = model.Encode(x, frames);
            var z = dist.Sample(rng, ranks.Size, ranks.Rank);
            var recon = model.Decode(z, frames);
            var mse = Ops.MseLoss(recon, x);
            // Both terms per pixel: LDM's sum-over-image losses divided by the same pixel count.
            var loss = decoderOnly ? mse : mse + dist.Kl() * (o.KlWeight / (x.Numel / x.Shape[0]));
            // A rank's batch-mean losses count for its share of the batch: the ranks' losses add up to the batch's.
            if (ranks.Size > 1) loss = loss * (1f / ranks.Size);
            NumericCheck.ThrowIfNotFinite(loss, step);
            dp.Step(loss.Backward(), 1.0);
            step++;
            // PSNR of [-1, 1] images: the range is 2, so peak^2 = 4.
            double psnr = 10 * Math.Log10(4.0 / Math.Max(1e-10, mse.Item()));
            bool last = step == o.Steps;
            if (ranks.Rank == 0 && (step % o.ValidateEvery == 0 || last)) lastVal = Validate(model, valClips, frames);
            if (step % o.CheckpointEvery == 0 || last) SaveCheckpoint(o, model, dp, rng, step);
            double fps = (step - startStep) * x.Shape[0] / sw.Elapsed.TotalSeconds;
            var eta = TimeSpan.FromSeconds(sw.Elapsed.TotalSeconds / (step - startStep) * (o.Steps - step));
            progress?.Report(new VaeTrainProgress(step, o.Steps, loss.Item(), psnr, fps, eta,
                step % o.ValidateEvery == 0 || last ? lastVal : null));
        }
        if (ranks.Rank != 0) return (model, lastVal ?? new VaeValidation(double.NaN, double.NaN, double.NaN, 0));
        lastVal ??= Validate(model, valClips, frames);
        model.Parameters.ToDevice(Device.Cpu);
        var folder = Path.Combine(o.Out, "vae");
        model.Save(folder);
        if (!decoderOnly) (model.Config with { ScalingFactor = LatentScalingFactor(model, train, frames, o.Seed) })
            .Save(Path.Combine(folder, "config.json"));
        return (AutoencoderKL.Load(folder), lastVal);
    }

    /// <summary>
    /// 1 / standard deviation of the latent means over training frames (4 significant digits): the scaling_factor
    /// that hands the diffusion models latents of unit variance. Stable Diffusion's 0.18215 is this figure for its own
    /// VAE; copied onto ours (latent std about 2) it left our first MTDs learning latents of std 0.37.
    /// </summary>
    public static float LatentScalingFactor(AutoencoderKL model, ClipSampler train, int frames, ulong seed,
        int samples = 16)
    {
        using var _ = Tensor.NoGrad();
        var rng = new Rng(seed).Derive(0x5CA1E);
        double sum = 0, sq = 0; long n = 0;
        for (int i = 0; i < samples; i++)
        {
            var x = frames == 1 ? train.Sample(rng, 8, 1) : train.Sample(rng, 1, frames);
            foreach (var v in model.Encode(x, frames).Mean.ToArray()) { sum += v; sq += (double)v * v; n++; }
        }
        double mean = sum / n, std = Math.Sqrt(Math.Max(1e-12, sq / n - mean * mean));
        return float.Parse((1 / std).ToString("G4", System.Globalization.CultureInfo.InvariantCulture),
            System.Globalization.CultureInfo.InvariantCulture);
    }

    private static AutoencoderKL BuildModel(VaeTrainOptions o, bool video, DatasetStore store)
    {
        if (o.InitFrom != null)
        {
            var baseCfg = AutoencoderKLConfig.Load(Path.Combine(o.InitFrom, "config.json"));
            var cfg = video
                && !o.NoTemporal ? baseCfg with { Temporal = true, TemporalInit = o.TemporalInit }
                : baseCfg with { Temporal = false };
            return AutoencoderKL.Load(o.InitFrom, cfg, strict: false, seed: o.Seed);
        }
        var fresh = (o.Config ?? new AutoencoderKLConfig()) with { SampleSize = store.Manifest.Width };
        if (video && !o.NoTemporal) fresh = fresh with { Temporal = true, TemporalInit = o.TemporalInit };
        return AutoencoderKL.Create(fresh, o.Seed);
    }

    private static void SaveCheckpoint(VaeTrainOptions o, AutoencoderKL model, DataParallel dp, Rng rng, long step)
    {
        dp.SaveCheckpoint(Path.Combine(o.Out, StateFile), model.Parameters, step, rng, null,
            new Dictionary<string, string>
        {
            ["stage"] = o.Stage.Name(), ["config"] = model.Config.ToJson(),
        });
    }

    /// <summary>Fixed clips: evenly spaced through every validation episode.</summary>
    private static List<(StoredEpisode, int)> ValidationClips(ClipSampler valid, int length)
    {
        var clips = new List<(StoredEpisode, int)>();
        foreach (var ep in valid.Episodes)
            for (int k = 0; k < 6; k++) clips.Add((ep, (int)((long)(ep.FrameCount - length) * k / 6)));
        return clips;
    }

    /// <summary>Reconstructs the validation clips from the latent means; PSNR, SSIM on 8-bit frames, temporal
    /// error.</summary>
    public static VaeValidation Validate(AutoencoderKL model, IReadOnlyList<(StoredEpisode Ep, int Start)> clips,
        int frames)
    {
        using var _ = Tensor.NoGrad();
        int length = Math.Max(frames, 4);
        var device = model.Parameters.Named.First().Value.Device; // validation runs where the model trains
        double psnr = 0, ssim = 0, temporal = 0; int n = 0;
        foreach (var clip in clips)
        {
            var x = ClipSampler.Load(new[] { clip }, length);
            var recon = model.Decode(model.Encode(x.ToDevice(device), frames == 1 ? 1 : length).Mean,
                frames == 1 ? 1 : length).ToDevice(Device.Cpu);
            var src = new List<Frame>(); var rec = new List<Frame>();
            for (int i = 0; i < length; i++)
            {
                src.Add(Frame.FromTensor(x.Narrow(0, i, 1).Squeeze(0)));
                rec.Add(Frame.FromTensor(recon.Narrow(0, i, 1).Squeeze(0)));
                psnr += Math.Min(100, Frame.Psnr(src[i], rec[i]));
                ssim += ImageMetrics.Ssim(src[i], rec[i]);
                n++;
            }
            temporal += ImageMetrics.TemporalConsistencyError(src, rec);
        }
        return new VaeValidation(psnr / n, ssim / n, temporal / clips.Count, n);
    }

    /// <summary>Validation of a saved model on a store's validation split (what the ablation table reports).</summary>
    public static VaeValidation Evaluate(string modelFolder, string data, int clipFrames, bool asVideo)
    {
        var model = AutoencoderKL.Load(modelFolder);
        using var store = DatasetStore.Open(data);
        var valid = new ClipSampler(store, store.Split(Splits.Validation).Any() ? Splits.Validation : Splits.Train);
        return Validate(model, ValidationClips(valid, clipFrames), asVideo ? clipFrames : 1);
    }
}
