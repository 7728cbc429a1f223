using System.Diagnostics;
using System.Globalization;
using Longshot.Diffusion.Families;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Svd;
using Longshot.Diffusion.Training;
using Longshot.Distributed;
using Longshot.Tensors;
using Longshot.Tensors.Autograd;
using Longshot.Tensors.Optim;
using Longshot.Video.Store;

namespace Longshot.Diffusion.SvdPostTuning;

/// <summary>
/// ExVideo's post-tuning of Stable Video Diffusion (the authors' ExVideo_svd_train.py): the UNet extended to N
/// frames (<see cref="SvdExtensionModel"/>), only its temporal blocks trained, on clips of N consecutive frames. Each
/// step encodes a clip with the frozen VAE (the clean latents) and its first frame with the VAE (the image latents
/// beside every frame) and CLIP (the context), labels it with its motion bucket, noises it at one of the 1,000 EDM
/// levels, and regresses the clean latents (times the contrast factor) from the UNet's v-prediction, weighted by
/// the level. AdamW, EMA, gradient checkpointing, optional bfloat16 mixed precision, data parallel with ZeRO under
/// mpirun; checkpoints are atomic and resume exactly. The result is an extension file in the published layout.
/// </summary>
public static class SvdExtendTrainer
{
    /// <summary>The training checkpoint in the run folder.</summary>
    public const string StateFile = "train_state.safetensors";

    /// <summary>The extension file written at the end (the published file's name).</summary>
    public const string ExtensionFile = "model.fp16.safetensors";

    /// <summary>Clips' frames the VAE encodes at once (the authors' batch).</summary>
    private const int EncodeChunk = 8;

    /// <summary>Trains; returns the extension file's path.</summary>
    /// <param name="ranks">The ranks of a data-parallel job (null: this process alone): each trains on its own
    /// <see cref="SvdExtendOptions.Batch"/> clips of every step's Batch x ranks; rank 0 writes the files.</param>
    public static string Train(SvdExtendOptions o, IProgress<SvdExtendProgress>? progress = null,
        CancellationToken ct = default, ICommunicator? ranks = null)
    {
        ranks ??= new SingleProcessCommunicator();
        // 1. Options, the published folder and the clips, checked before any work.
        o.Validate();
        var pipe = LoadPipeline(o);
        using var store = DatasetStore.Open(o.Data);
        var sampler = OpenClips(o, store);
        var size = TrainingSize(o, store, pipe);

        // 2. The extended UNet: its temporal blocks train, the rest stays mapped and frozen.
        var model = SvdExtensionModel.Create(pipe.Unet, o.Frames);
        model.Unet.GradientCheckpointing = o.GradientCheckpointing;

        // 3. Optimizer and EMA over the trainable weights, from the checkpoint when there is one.
        var trainable = model.Trainable;
        var dp = new DataParallel(ranks, trainable.Trainable, o.Zero,
            ps => new AdamW(ps, o.LearningRate, weightDecay: 0.01f));
        // EMA decay 0 keeps no EMA (a float32 copy of every trainable weight: 3.2 GB at real size).
        var ema = o.EmaDecay > 0 ? new Ema(trainable.Trainable, o.EmaDecay) : null;
        var rng = new Rng(o.Seed);
        var statePath = Path.Combine(o.Out, StateFile);
        if (ranks.Rank == 0) Directory.CreateDirectory(o.Out);
        long step = 0;
        var record = Record(o, size);
        if (File.Exists(statePath))
        {
            CheckResumable(statePath, record);
            step = TrainingCheckpoint.Load(statePath, trainable, dp.Optimizer, rng, ema).Step;
        }

        // 4. The steps, checkpointed atomically every CheckpointEvery.
        var schedule = new EdmTrainingSchedule();
        var sw = Stopwatch.StartNew();
        long first = step;
        while (step < o.Steps)
        {
            ct.ThrowIfCancellationRequested();
            var (loss, weighted) = Step(o, pipe, model, schedule, sampler, size, rng, dp, ranks, step, ct);
            GC.Collect();
            ema?.Update(step);
            step++;
            if (step % o.CheckpointEvery == 0 || step == o.Steps)
                dp.SaveCheckpoint(statePath, trainable, step, rng, ema, record);
            // Each rank's losses are its share of the batch's: the sums are the batch's.
            var sums = new[] { (double)loss, weighted };
            ranks.AllReduceSum(sums.AsSpan());
            double perStep = sw.Elapsed.TotalSeconds / (step - first);
            progress?.Report(new SvdExtendProgress(step, o.Steps, (float)sums[0], (float)sums[1], perStep,
                TimeSpan.FromSeconds((o.Steps - step) * perStep)));
        }

        // 5. The extension file: the EMA weights (or the last step's) in DiffSynth's names, float16.
        var path = Path.Combine(o.Out, ExtensionFile);
        if (ranks.Rank == 0) model.Save(path, o.ExportRaw ? null : ema?.Weights());
        ranks.Barrier();
        return path;
    }

    /// <summary>One optimizer step on this rank's clips; returns its share of the losses. The step's gradients and
    /// activations (gigabytes at real size) are unreachable when it returns, and the caller collects them before the
    /// next step (a step takes minutes; a collection, milliseconds).</summary>
    private static (double Loss, double Weighted) Step(SvdExtendOptions o, SvdPipeline pipe, SvdExtensionModel model,
        EdmTrainingSchedule schedule, ClipSampler sampler, (int Width, int Height) size, Rng rng, DataParallel dp,
        ICommunicator ranks, long step, CancellationToken ct)
    {
        var (grads, loss, weighted) = StepGradients(o, pipe, model, schedule, sampler, size, rng, ranks.Size,
            ranks.Rank, ct);
        NumericCheck.ThrowIfNotFinite(Tensor.Scalar((float)weighted), step);
        dp.Step(grads, double.PositiveInfinity);   // the authors clip nothing
        return (loss, weighted);
    }

    private static SvdPipeline LoadPipeline(SvdExtendOptions o)
    {
        ModelFamilies.Require<SvdPipeline>(o.Model);
        return SvdPipeline.Load(o.Model, o.Variant);
    }

    /// <summary>The train split's episodes long enough for a clip.</summary>
    private static ClipSampler OpenClips(SvdExtendOptions o, DatasetStore store)
    {
        try { return new ClipSampler(store, Splits.Train, o.Frames); }
        catch (LongshotException e) when (e is not SettingException)
        {
            throw new SettingException(nameof(o.Frames), $"clips of {o.Frames} frames: {e.Message}");
        }
    }

    /// <summary>The clips' size: the option's or the dataset's, a multiple of what the VAE and the UNet's levels
    /// divide by.</summary>
    private static (int Width, int Height) TrainingSize(SvdExtendOptions o, DatasetStore store, SvdPipeline pipe)
    {
        var (w, h) = o.Size ?? (store.Manifest.Width, store.Manifest.Height);
        // Sides the UNet halves down to its lowest level, where the positional convolution's reflect padding needs 2.
        int multiple = pipe.Vae.Config.DownFactor << (pipe.Unet.Config.Levels - 1);
        if (w % multiple != 0 || h % multiple != 0 || Math.Min(w, h) < 2 * multiple
            || Math.Max(w, h) > SvdSettings.MaxSide)
            throw new SettingException("Size", $"{w}x{h}{(o.Size == null ? $" (the frames of {o.Data})" : "")}: " +
                $"this model trains on sides that are multiples of {multiple} from {2 * multiple} to " +
                $"{SvdSettings.MaxSide}.");
        return (w, h);
    }

    /// <summary>
    /// One step's gradients on this rank's clips, and its share of the batch's mean squared error and weighted loss.
    /// Every rank draws the whole batch's clips, levels and noise (cheap, and it keeps the generators in step with one
    /// process's) and runs its own; losses are divided by the whole batch, so the ranks' gradients add up to one
    /// process's.
    /// </summary>
    internal static (GradStore Grads, double Loss, double Weighted) StepGradients(SvdExtendOptions o,
        SvdPipeline pipe, SvdExtensionModel model, EdmTrainingSchedule schedule, ClipSampler sampler,
        (int Width, int Height) size, Rng rng, int ranks = 1, int rank = 0, CancellationToken ct = default)
    {
        int total = o.Batch * ranks, f = o.Frames, from = rank * o.Batch;
        int down = pipe.Vae.Config.DownFactor, channels = pipe.Vae.Config.LatentChannels;
        var frames = sampler.Sample(rng, total, f, 1, (from, o.Batch));
        var levels = Enumerable.Range(0, total).Select(_ => rng.NextInt(schedule.Sigmas.Length)).ToArray();
        var noise = Tensor.Randn(rng, total * f, channels, size.Height / down, size.Width / down);
        var trainable = model.Trainable.Trainable.Select(p => p.Value).ToList();
        var sums = new Dictionary<Tensor, Tensor>();
        double loss = 0, weighted = 0;
        for (int b = 0; b < o.Batch; b++)
        {
            ct.ThrowIfCancellationRequested();
            var clip = CoverCrop.Fit(frames.Narrow(0, b * f, f), size.Width, size.Height);
            var condition = Condition(pipe, clip, o.Fps, o.LatentScale ?? pipe.Vae.Config.ScalingFactor);
            int level = levels[from + b];
            GradStore grads;
            using (o.Bf16 ? MixedPrecision.Bf16() : null)
            {
                var noisy = schedule.Noisy(condition.Latents, noise.Narrow(0, (from + b) * f, f), level);
                var image = condition.ImageLatents.Expand(f, channels, noisy.Shape[2], noisy.Shape[3]);
                var input = Ops.Concat(new[] { noisy, image }, 1).Unsqueeze(0);
                var output = model.Unet.Forward(input, schedule.Timestep(level), condition.Context,
                    condition.AddedTimeIds).Squeeze(0);
                var estimate = schedule.Estimate(output, noisy, level);
                var mse = Ops.Mean(Ops.Square(estimate - condition.Latents * o.ContrastEnhance));
                var share = mse * (schedule.Weight(level) / total);
                loss += mse.Item() / total;
                weighted += share.Item();
                grads = share.Backward();
            }
            foreach (var p in trainable)
                if (grads.Get(p) is { } g) sums[p] = sums.TryGetValue(p, out var s) ? s + g : g;
        }
        return (GradStore.Of(sums.Select(kv => (kv.Key, kv.Value))), loss, weighted);
    }

    /// <summary>What a clip is conditioned on, and its clean latents.</summary>
    internal sealed record ClipCondition(Tensor Latents, Tensor ImageLatents, Tensor Context, Tensor AddedTimeIds);

    /// <summary>
    /// A clip [F, 3, H, W] in [-1, 1] as the authors' script prepares it: its VAE latents (the distribution's mode,
    /// scaled by <paramref name="scale"/>), the first frame's latents unscaled and without noise augmentation, the
    /// first frame's CLIP embedding [1, 1, D], and the added time ids [fps - 1, motion bucket, 0].
    /// </summary>
    internal static ClipCondition Condition(SvdPipeline pipe, Tensor clip, int fps, float scale)
    {
        using var _ = Tensor.NoGrad();
        int f = clip.Shape[0];
        var parts = new List<Tensor>();
        for (int s = 0; s < f; s += EncodeChunk)
            parts.Add(pipe.Vae.Encode(clip.Narrow(0, s, Math.Min(EncodeChunk, f - s))).Mean);
        var latents = Ops.Concat(parts, 0);
        var context = pipe.EncodeImage(clip.Narrow(0, 0, 1).Squeeze(0)).Unsqueeze(1);
        int bucket = MotionBuckets.Bucket(MotionBuckets.Score(clip));
        return new ClipCondition(latents * scale, latents.Narrow(0, 0, 1).Contiguous(),
            context, Tensor.FromArray(new float[] { fps - 1, bucket, 0 }, 1, 3));
    }

    /// <summary>What the checkpoint records of the run, so a rerun with other settings is refused.</summary>
    private static Dictionary<string, string> Record(SvdExtendOptions o, (int Width, int Height) size) => new()
    {
        ["role"] = "svd-extend", ["frames"] = o.Frames.ToString(CultureInfo.InvariantCulture),
        ["size"] = $"{size.Width}x{size.Height}", ["fps"] = o.Fps.ToString(CultureInfo.InvariantCulture),
        ["contrast-enhance"] = o.ContrastEnhance.ToString("R", CultureInfo.InvariantCulture),
        ["ema"] = o.EmaDecay > 0 ? "yes" : "no",
        ["latent-scale"] = o.LatentScale?.ToString("R", CultureInfo.InvariantCulture) ?? "vae",
    };

    private static void CheckResumable(string statePath, Dictionary<string, string> record)
    {
        foreach (var (key, now) in record)
        {
            var then = TrainingCheckpoint.ReadExtra(statePath, key);
            if (then != now)
                throw new SettingException("Out", $"{statePath} belongs to a run with {key} {then ?? "(none)"}, " +
                    $"not {now}; train into another folder.");
        }
    }
}
