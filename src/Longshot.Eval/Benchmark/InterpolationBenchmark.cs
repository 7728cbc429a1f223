using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Training;
using Longshot.Diffusion.Vae;
using Longshot.Eval.Features;
using Longshot.Eval.Metrics;
using Longshot.Tensors;
using Longshot.Video.Imaging;
using Longshot.Video.Store;

namespace Longshot.Eval.Benchmark;

/// <summary>Options of the local-model benchmark (NUWA-XL Table 2b on Toonworld).</summary>
public sealed record InterpolationOptions : BenchmarkInputs
{
    public required string Local { get; init; }
    public int Clips { get; init; } = 48;
    public int Length { get; init; } = 16;
    /// <summary>Frame spacing inside a clip (1: the finest level).</summary>
    public int Stride { get; init; } = 1;
    public int Batch { get; init; } = 4;
    public ulong Seed { get; init; } = 1;
    public SamplerOptions Sampler { get; init; } = new(Steps: 8, GuidanceScale: 2f);
}

/// <summary>
/// How well a local model fills the frames between two real keyframes: clips of the test split keep their real first
/// and last latents as conditions, the model generates the L-2 between them, and the decoded clips are scored against
/// the real clips (Avg-FID, B-FVD over the clips, story accuracy). This isolates what MI and SI change: how the
/// visual condition reaches the frames to generate.
/// </summary>
public static class InterpolationBenchmark
{
    public static VideoScores Run(InterpolationOptions o, IProgress<(int Done, int Total)>? progress = null,
        CancellationToken ct = default)
    {
        using var store = DatasetStore.Open(o.Data);
        var tests = store.Split(Splits.Test).ToList();
        if (tests.Count == 0) throw new LongshotException($"{o.Data}: no test-split episodes.");
        var vae = AutoencoderKL.Load(o.Vae);
        var latents = LatentCache.Build(store, tests, o.Vae, null, ct);
        var local = MtdPipelineParts.Load(o.Local);
        var sampler = new MtdSampler(local, vae.Config.LatentChannels, vae.LatentSize, vae.LatentSize);
        var codec = ChunkedVideoCodec.ForGeneration(vae);
        var evaluator = new VideoEvaluator(FeatureExtractor.Load(o.Extractor, o.ExtractorSha256), o.Length);
        int span = (o.Length - 1) * o.Stride + 1;
        var windows = LongVideoBenchmark.Windows(tests, span, o.Clips);
        var generated = new List<ScoredVideo>();
        var real = new List<ScoredVideo>();
        for (int s = 0; s < windows.Count; s += o.Batch)
        {
            var batch = windows.Skip(s).Take(o.Batch).ToList();
            var clips = batch.Select((w, i) =>
            {
                var positions = Enumerable.Range(0, o.Length).Select(k => w.Start + k * o.Stride).ToArray();
                var z = latents.Frames(w.Ep, positions);
                var given = positions.Select((_, k) => k == 0 || k == o.Length - 1 ? z.Narrow(0, k, 1).Squeeze(0)
                    .Contiguous() : null).ToArray();
                var prompts = positions.Select(w.Ep.Caption).ToArray();
                return (Clip: new MtdClip(positions, prompts, given, new Rng(o.Seed).Derive((ulong)(s + i))),
                    Positions: positions);
            }).ToList();
            var outs = sampler.Sample(clips.Select(c => c.Clip).ToList(), o.Sampler, ct);
            for (int i = 0; i < batch.Count; i++)
            {
                using var _ = Tensor.NoGrad();
                var frames = codec.Decode(vae.UnscaleLatents(outs[i]), ct).Select(Frame.FromTensor).ToList();
                var p = clips[i].Positions;
                var ep = batch[i].Ep;
                var shots = p.Select(f => ep.Annotation(f)?.Shot ?? 0).ToList();
                var prompts = p.Select(ep.Caption).ToList();
                generated.Add(new ScoredVideo(frames, prompts, shots));
                real.Add(new ScoredVideo(p.Select(ep.ReadFrame).ToList(), prompts, shots));
            }
            progress?.Report((Math.Min(s + o.Batch, windows.Count), windows.Count));
        }
        return evaluator.Score(generated, real);
    }
}
