using System.Diagnostics;
using Longshot.Diffusion.Training;
using Longshot.Eval.Attributes;
using Longshot.Tensors;
using Longshot.Tensors.Optim;
using Longshot.Video.Store;

namespace Longshot.Eval.Features;

/// <summary>Options of `longshot train extractor`.</summary>
public sealed record ExtractorTrainOptions
{
    public required string Data { get; init; }
    public required string Out { get; init; }
    public int Steps { get; init; } = 800;
    public int FrameBatch { get; init; } = 48;
    public int ClipBatch { get; init; } = 8;
    public float LearningRate { get; init; } = 2e-3f;
    public ulong Seed { get; init; } = 1;
    public FeatureExtractorConfig Config { get; init; } = new();
}

/// <summary>One progress report of extractor training.</summary>
public sealed record ExtractorTrainProgress(int Step, int Steps, float FrameLoss, float ClipLoss, TimeSpan Eta);

/// <summary>Held-out accuracy of the extractor's heads on the validation split.</summary>
public sealed record ExtractorValidation(double Place, double Time, double Framing, double Shirts, double Accessories,
    double Actions, double Cuts, int Frames, int Clips);

/// <summary>
/// Trains the evaluation feature extractor on real Toonworld frames supervised by their annotations (attributes per
/// frame; actions, cuts and the middle frame's attributes per 16-frame clip), then sets the cut threshold from the
/// real frame-to-frame changes inside shots and across cuts, and reports held-out accuracy.
/// </summary>
public static class ExtractorTrainer
{
    public static (FeatureExtractor Extractor, ExtractorValidation Validation) Train(ExtractorTrainOptions o,
        IProgress<ExtractorTrainProgress>? progress = null, CancellationToken ct = default)
    {
        using var store = DatasetStore.Open(o.Data);
        var train = store.Episodes.Where(e => e.Entry.Split == Splits.Train).ToList();
        var val = store.Episodes.Where(e => e.Entry.Split == Splits.Validation).ToList();
        if (train.Count == 0 || val.Count == 0)
            throw new LongshotException($"{o.Data}: the extractor needs train and validation episodes.");
        if (train.Any(e => e.Annotation(0) == null))
            throw new LongshotException($"{o.Data}: episodes have no annotations (the extractor is trained on " +
            $"generated Toonworld data).");
        var config = o.Config with { CutThreshold = CalibrateCutThreshold(train, new Rng(o.Seed + 7)) };
        var fx = FeatureExtractor.Create(config, o.Seed);
        var opt = new AdamW(fx.Store.Trainable, o.LearningRate, weightDecay: 1e-4f);
        var schedule = new WarmupCosine(o.LearningRate, 50, o.Steps);
        var rng = new Rng(o.Seed);
        var sw = Stopwatch.StartNew();
        for (int step = 0; step < o.Steps; step++)
        {
            ct.ThrowIfCancellationRequested();
            opt.LearningRate = schedule.At(step);
            var frames = Enumerable.Range(0, o.FrameBatch).Select(_ => RandomFrame(train, rng)).ToList();
            var (_, frameLogits) = fx.Frames(ClipSampler.Load(frames, 1));
            var frameLoss = AttributeLoss.Compute(frameLogits, FrameTargets(frames), FrameAttributes.ChoiceGroups,
                FrameAttributes.PresenceGroups);
            var clips = Enumerable.Range(0, o.ClipBatch).Select(_ => RandomClip(train, config.ClipFrames, rng))
                .ToList();
            var (_, clipLogits, clipFrameLogits) = fx.Clips(ClipSampler.Load(clips, config.ClipFrames));
            var clipFrames = clips.SelectMany(c => Enumerable.Range(c.Item2, config.ClipFrames)
                .Select(f => (c.Item1, f))).ToList();
            var clipLoss = AttributeLoss.Compute(clipLogits, ClipTargetTensor(clips, config.ClipFrames), ClipChoice,
                ClipPresence)
                           + AttributeLoss.Compute(clipFrameLogits, FrameTargets(clipFrames),
                               FrameAttributes.ChoiceGroups, FrameAttributes.PresenceGroups);
            var loss = frameLoss + clipLoss;
            NumericCheck.ThrowIfNotFinite(loss, step);
            var grads = loss.Backward();
            GradClip.ClipByGlobalNorm(grads, fx.Store.Trainable.Select(p => p.Value), 1.0);
            opt.Step(grads);
            progress?.Report(new ExtractorTrainProgress(step + 1, o.Steps, frameLoss.Item(), clipLoss.Item(),
                TimeSpan.FromSeconds(sw.Elapsed.TotalSeconds / (step + 1) * (o.Steps - step - 1))));
        }
        fx.Eval();
        fx.Save(o.Out);
        return (fx, Validate(fx, val, new Rng(o.Seed + 99)));
    }

    /// <summary>Clip head groups: actions and cut are presences; the middle frame's attributes follow.</summary>
    internal static readonly (int At,
        int Size)[] ClipChoice = FrameAttributes.ChoiceGroups.Select(g =>
        (g.At + FeatureExtractor.Actions.Length + 1, g.Size)).ToArray();
    internal static readonly (int At, int Size)[] ClipPresence = new[] { (0, FeatureExtractor.Actions.Length + 1) }
        .Concat(FrameAttributes.PresenceGroups.Select(g => (g.At + FeatureExtractor.Actions.Length + 1, g.Size)))
            .ToArray();

    private static (StoredEpisode, int) RandomFrame(List<StoredEpisode> eps, Rng rng)
    {
        var ep = eps[rng.NextInt(eps.Count)];
        return (ep, rng.NextInt(ep.FrameCount));
    }

    private static (StoredEpisode, int) RandomClip(List<StoredEpisode> eps, int length, Rng rng)
    {
        var ep = eps[rng.NextInt(eps.Count)];
        return (ep, rng.NextInt(ep.FrameCount - length + 1));
    }

    private static Tensor FrameTargets(IReadOnlyList<(StoredEpisode Ep, int Frame)> frames) =>
        Tensor.FromArray(frames.SelectMany(f => FrameAttributes.Targets(f.Ep.Annotation(f.Frame)!)).ToArray(),
            frames.Count, FrameAttributes.Count);

    /// <summary>Clip targets: actions of visible characters anywhere in the clip, whether a cut happens, middle-frame
    /// attributes.</summary>
    internal static float[] ClipTargets(StoredEpisode ep, int start, int length)
    {
        var t = new float[FeatureExtractor.ClipTargets];
        for (int f = start; f < start + length; f++)
        {
            var a = ep.Annotation(f)!;
            foreach (var c in a.Characters.Where(c => c.Visible))
                t[Array.IndexOf(FeatureExtractor.Actions, c.Action.Replace("_", "").ToLowerInvariant())] = 1;
            if (f > start && a.Shot != ep.Annotation(f - 1)!.Shot) t[FeatureExtractor.Actions.Length] = 1;
        }
        FrameAttributes.Targets(ep.Annotation(start + length / 2)!).CopyTo(t, FeatureExtractor.Actions.Length + 1);
        return t;
    }

    private static Tensor ClipTargetTensor(IReadOnlyList<(StoredEpisode Ep, int Start)> clips, int length) =>
        Tensor.FromArray(clips.SelectMany(c => ClipTargets(c.Ep, c.Start, length)).ToArray(), clips.Count,
            FeatureExtractor.ClipTargets);

    /// <summary>
    /// The cut threshold: halfway (geometrically) between the 99th percentile of frame-to-frame change inside shots
    /// and the 5th percentile across cuts, measured on real frames.
    /// </summary>
    internal static float CalibrateCutThreshold(List<StoredEpisode> eps, Rng rng)
    {
        var inside = new List<double>();
        var cuts = new List<double>();
        foreach (var ep in eps)
        {
            for (int f = 1; f < ep.FrameCount; f++)
                if (ep.Annotation(f)!.Shot != ep.Annotation(f
                    - 1)!.Shot) cuts.Add(Metrics.VideoSignals.Change(ep.ReadFrame(f - 1), ep.ReadFrame(f)));
            for (int k = 0; k < 200; k++)
            {
                int f = 1 + rng.NextInt(ep.FrameCount - 1);
                if (ep.Annotation(f)!.Shot == ep.Annotation(f
                    - 1)!.Shot) inside.Add(Metrics.VideoSignals.Change(ep.ReadFrame(f - 1), ep.ReadFrame(f)));
            }
        }
        if (cuts.Count == 0) return 0.1f;
        inside.Sort(); cuts.Sort();
        double hi = inside[(int)(0.99 * (inside.Count - 1))], lo = cuts[(int)(0.05 * (cuts.Count - 1))];
        return (float)Math.Sqrt(Math.Max(hi, 1e-4) * Math.Max(lo, 1e-4));
    }

    /// <summary>Held-out accuracy per head on the validation split.</summary>
    public static ExtractorValidation Validate(FeatureExtractor fx, List<StoredEpisode> val, Rng rng, int frames = 512,
        int clips = 32)
    {
        using var _ = Tensor.NoGrad();
        var picks = Enumerable.Range(0, frames).Select(_ => RandomFrame(val, rng)).ToList();
        var logits = new List<float[]>();
        for (int s = 0; s < picks.Count; s += 64)
        {
            var chunk = picks.Skip(s).Take(64).ToList();
            var (_, l) = fx.Frames(ClipSampler.Load(chunk, 1));
            var arr = l.ToArray();
            for (int i = 0; i < chunk.Count; i++) logits.Add(arr.AsSpan(i * FrameAttributes.Count,
                FrameAttributes.Count).ToArray());
        }
        var targets = picks.Select(p => FrameAttributes.Targets(p.Item1.Annotation(p.Item2)!)).ToList();
        var decisions = logits.Select(l =>
            AttributeLoss.Decide(l, FrameAttributes.ChoiceGroups, FrameAttributes.PresenceGroups)).ToList();
        // Exact match of a whole group (all its labels right).
        double Group(int at, int size) =>
            Enumerable.Range(0, picks.Count)
                .Average(i => Enumerable.Range(at, size)
                .All(k => decisions[i][k] == (targets[i][k] > 0.5f)) ? 1.0 : 0.0);
        var clipPicks = Enumerable.Range(0, clips).Select(_ => RandomClip(val, fx.Config.ClipFrames, rng)).ToList();
        double actions = 0, cut = 0;
        for (int s = 0; s < clipPicks.Count; s += 8)
        {
            var chunk = clipPicks.Skip(s).Take(8).ToList();
            var (_, l, _) = fx.Clips(ClipSampler.Load(chunk, fx.Config.ClipFrames));
            var arr = l.ToArray();
            for (int i = 0; i < chunk.Count; i++)
            {
                var row = arr.AsSpan(i * FeatureExtractor.ClipTargets, FeatureExtractor.ClipTargets).ToArray();
                var t = ClipTargets(chunk[i].Item1, chunk[i].Item2, fx.Config.ClipFrames);
                int na = FeatureExtractor.Actions.Length;
                actions += Enumerable.Range(0, na).All(k => (row[k] > 0) == (t[k] > 0.5f)) ? 1 : 0;
                cut += (row[na] > 0) == (t[na] > 0.5f) ? 1 : 0;
            }
        }
        return new ExtractorValidation(Group(FrameAttributes.PlaceAt, FrameAttributes.Places.Length),
            Group(FrameAttributes.TimeAt, FrameAttributes.Times.Length),
            Group(FrameAttributes.FramingAt, FrameAttributes.Framings.Length),
                Group(FrameAttributes.ShirtAt, FrameAttributes.Shirts.Length),
            Group(FrameAttributes.AccessoryAt, FrameAttributes.Accessories.Length), actions / clips, cut / clips,
                frames, clips);
    }
}
