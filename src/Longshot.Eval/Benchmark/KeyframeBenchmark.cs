using Longshot.Diffusion;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Diffusion.Vae;
using Longshot.Eval.Features;
using Longshot.Eval.Metrics;
using Longshot.Tensors;
using Longshot.Video.Imaging;
using Longshot.Video.Store;

namespace Longshot.Eval.Benchmark;

/// <summary>Options of `longshot eval keyframes`: which global model, how many stories of how many frames.</summary>
public sealed record KeyframeOptions : BenchmarkInputs
{
    public required string Global { get; init; }
    /// <summary>Frames of the videos whose keyframes are drawn.</summary>
    public int Frames { get; init; } = 1024;
    /// <summary>Test-split windows (stories) of <see cref="Frames"/> frames.</summary>
    public int Windows { get; init; } = 32;
    public int Length { get; init; } = 16;
    public int? Depth { get; init; }
    public ulong Seed { get; init; } = 1;
    public SamplerOptions Sampler { get; init; } = ShippedModels.Sampler;
}

/// <summary>
/// The global model alone: for windows of the test split, the keyframes a DoD video of that length gets (level 1 of
/// its hierarchy, with the prompts, positions and seeds `longshot eval` gives the same window), each decoded as a held
/// still and scored against the real frame at its position (Avg-FID over keyframes, story accuracy and its
/// attributes). The levels below keep what the keyframes show, so this tells in minutes whether a global model carries
/// the story.
/// </summary>
public static class KeyframeBenchmark
{
    public static VideoScores Run(KeyframeOptions o, IProgress<(int Done, int Total)>? progress = null,
        CancellationToken ct = default)
    {
        if (o.Frames < 2 || o.Frames > GenerationRequest.MaxFrames)
            throw new LongshotException($"keyframes: videos must have 2 to {GenerationRequest.MaxFrames} frames.");
        o.Sampler.Validate();
        using var store = DatasetStore.Open(o.Data);
        var tests = LongVideoBenchmark.TestEpisodes(store, o.Data);
        var evaluator = new VideoEvaluator(FeatureExtractor.Load(o.Extractor, o.ExtractorSha256));
        var global = MtdPipelineParts.Load(o.Global);
        var vae = AutoencoderKL.Load(o.Vae);
        var pipe = new LongVideoPipeline(global, global, vae);           // the local model draws no keyframe
        var codec = ChunkedVideoCodec.ForGeneration(vae);
        var windows = LongVideoBenchmark.Windows(tests, o.Frames, o.Windows);
        var generated = new List<ScoredVideo>();
        var real = new List<ScoredVideo>();
        for (int v = 0; v < windows.Count; v++)
        {
            ct.ThrowIfCancellationRequested();
            var (ep, start) = windows[v];
            var captions = Enumerable.Range(start, o.Frames).Select(ep.Caption).ToList();
            var request = new GenerationRequest(Storyline.FromFramePrompts(captions), o.Frames)
            {
                Scheme = new DiffusionOverDiffusion(o.Depth), Length = o.Length, Seed = o.Seed + (ulong)v,
                Sampler = o.Sampler,
            };
            var keyframes = pipe.GenerateKeyframes(request, ct);
            var positions = keyframes.Keys.Order().ToList();
            var frames = positions.Select(p => Still(codec, vae, keyframes[p], ct)).ToList();
            var prompts = positions.Select(p => captions[p]).ToList();
            var shots = positions.Select(p => ep.Annotation(start + p)!.Shot).ToList();
            generated.Add(new ScoredVideo(frames, prompts, shots));
            real.Add(new ScoredVideo(positions.Select(p => ep.ReadFrame(start + p)).ToList(), prompts, shots));
            progress?.Report((v + 1, windows.Count));
        }
        return evaluator.Score(generated, real);
    }

    /// <summary>
    /// One keyframe's latent [c, h, w] decoded as a held shot: repeated over one decoding tile, the middle frame. The
    /// T-KLVAE decodes with temporal context, and a lone frame comes out blurrier than inside its video (on the 4
    /// stories of `eval`'s 1,024-frame row, alone: story 54.2%, held: 57.3%, the videos' own keyframes: 57.1%).
    /// </summary>
    internal static Frame Still(ChunkedVideoCodec codec, AutoencoderKL vae, Tensor latent, CancellationToken ct)
    {
        using var _ = Tensor.NoGrad();
        var held = Ops.Stack(Enumerable.Repeat(latent, codec.Tile).ToList(), 0);
        return Frame.FromTensor(codec.Decode(vae.UnscaleLatents(held), ct).ElementAt(codec.Tile / 2));
    }
}
