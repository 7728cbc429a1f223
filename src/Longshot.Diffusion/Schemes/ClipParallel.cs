using Longshot.Diffusion.Clips;
using Longshot.Diffusion.Pipelines;
using Longshot.Distributed;
using Longshot.Tensors;

namespace Longshot.Diffusion.Schemes;

/// <summary>
/// Video-Infinity's clip parallelism with the global model, a short-video model over consecutive frames: every clip
/// is denoised at once, on this process's threads or over MPI ranks (each rank samples its share of the clips),
/// neighbours exchanging context at every temporal layer (<see cref="ClipRun"/>).
/// </summary>
/// <param name="Clips">Clip length and attention scope.</param>
public sealed record ClipParallel(ClipSettings Clips) : GenerationScheme
{
    /// <summary>The scheme with the default clip settings.</summary>
    public ClipParallel() : this(new ClipSettings()) { }

    /// <inheritdoc/>
    public override string Name => "clips";

    /// <inheritdoc/>
    public override string Title => "clip parallel";

    /// <inheritdoc/>
    public override bool Resumes => true;

    /// <inheritdoc/>
    public override bool RunsOnDevice => false;

    /// <inheritdoc/>
    public override bool RunsOverRanks => true;

    /// <inheritdoc/>
    public override string RanksDescription(int ranks) =>
        $"running on {ranks} MPI ranks, each sampling its share of the clips";

    /// <inheritdoc/>
    public override string Identity => Clips.Identity + "|";

    /// <inheritdoc/>
    public override string ProgressNote(GenerationProgress g) => $"step {g.AllDone}/{g.AllUnits}";

    /// <inheritdoc/>
    public override void Validate(GenerationRequest r) => Clips.Validate(r.Frames);

    /// <summary>Every clip's first frame but the video's.</summary>
    public override IReadOnlyList<int> Seams(GenerationRequest r)
    {
        var layout = Clips.Layout(r.Frames);
        return Enumerable.Range(0, layout.Clips).Select(layout.Start).ToList();
    }

    /// <summary>The attention-scope ablation: the other scopes ("clips-independent", "clips-local",
    /// "clips-global").</summary>
    public override IEnumerable<(string Name, GenerationScheme Scheme)> Ablations =>
        Enum.GetValues<ClipAttention>().Where(a => a != Clips.Attention)
            .Select(a => ($"clips-{ClipSettings.Name(a)}", (GenerationScheme)(this with
            {
                Clips = Clips with { Attention = a },
            })));

    /// <inheritdoc/>
    public override GenerationPlan Plan(GenerationRequest r) =>
        GenerationPlan.OneLevel(this, r.Frames, Clips.Layout(r.Frames).Clips,
            1);

    /// <inheritdoc/>
    protected internal override IEnumerable<int> Run(LongVideoPipeline pipe, GenerationRequest r,
        Dictionary<int, Tensor> known, IProgress<GenerationProgress>? progress, CancellationToken ct)
    {
        var settings = Clips.Validate(r.Frames);
        var layout = settings.Layout(r.Frames);
        var frame = new[] { pipe.LatentChannels, pipe.LatentSize, pipe.LatentSize };
        var (latents, bytes) = new ClipRun(layout, settings, pipe.Ranks ?? new SingleProcessCommunicator(), frame)
            .Run((clip, exchange) => new MtdClipDenoiser(pipe.GlobalSampler, r, layout, clip, exchange, frame),
                r.RunDir, r.Identity, r.Sampler.Steps,
                k => progress?.Report(new GenerationProgress(1, 1, k, r.Sampler.Steps, k, r.Sampler.Steps)),
                pipe.Warning, ct);
        for (int f = 0; f < latents.Length; f++) known[f] = latents[f];
        pipe.LastClipExchangeBytes = bytes;
        yield return 0;
    }

    /// <summary>Every rank samples its clips alike; rank 0 also decodes and writes.</summary>
    public override void ServeRank(LongVideoPipeline pipe, GenerationRequest r, ICommunicator ranks,
        CancellationToken ct)
    {
        pipe.Ranks = ranks;
        pipe.GenerateLatents(r, null, ct);
    }
}
