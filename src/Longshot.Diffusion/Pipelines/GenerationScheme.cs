using Longshot.Distributed;
using Longshot.Tensors;

namespace Longshot.Diffusion.Pipelines;

/// <summary>
/// A way of making a long video from the models, holding its own settings (a record: <c>scheme with { ... }</c>
/// changes them). Each scheme is one type that owns its validation, its plan and its run, the way diffusers gives
/// each task its own pipeline; the schemes are found by name in one registry
/// (<c>Longshot.Diffusion.Schemes.GenerationSchemes</c>), and nothing else switches on which scheme runs.
/// </summary>
public abstract record GenerationScheme
{
    /// <summary>Short name: the command line's choice, result rows, run folders ("dod", "ar", ...).</summary>
    public abstract string Name { get; }

    /// <summary>Long name for titles and progress ("diffusion over diffusion").</summary>
    public abstract string Title { get; }

    /// <summary>Whether it runs on the global and local models alone (what the studio offers and the benchmarks
    /// compare); a scheme that needs a model of its own says false.</summary>
    public virtual bool OnStoryModels => true;

    /// <summary>Whether a run folder keeps its work, so a rerun continues where a killed one stopped.</summary>
    public virtual bool Resumes => false;

    /// <summary>Whether a frame range of a finished run can be redrawn while every other frame stays
    /// identical.</summary>
    public virtual bool Redraws => false;

    /// <summary>Whether its first level holds the global model's keyframes (titles of contact sheets).</summary>
    public virtual bool HasKeyframes => false;

    /// <summary>Whether it samples on a device other than the CPU.</summary>
    public virtual bool RunsOnDevice => true;

    /// <summary>Whether it spreads over the ranks of an MPI job (<see cref="ServeRank"/> is what ranks 1.. do).
    /// </summary>
    public virtual bool RunsOverRanks => false;

    /// <summary>What a run over <paramref name="ranks"/> ranks does, in a sentence for the log.</summary>
    public virtual string RanksDescription(int ranks) => $"running on {ranks} MPI ranks";

    /// <summary>Throws a <see cref="SettingException"/> naming the first of its settings that cannot work for
    /// <paramref name="r"/>.</summary>
    public virtual void Validate(GenerationRequest r) { }

    /// <summary>What <paramref name="r"/> computes, level by level.</summary>
    public abstract GenerationPlan Plan(GenerationRequest r);

    /// <summary>Its settings that decide the video, as stable text (part of a run folder's key); empty when it has
    /// none.</summary>
    public virtual string Identity => "";

    /// <summary>Its settings worth naming beside a table of results ("depth 3; "), or empty.</summary>
    public virtual string SettingsNote => "";

    /// <summary>The frames where pieces denoised apart meet (clip boundaries), for the seam score; null when the
    /// scheme has none.</summary>
    public virtual IReadOnlyList<int>? Seams(GenerationRequest r) => null;

    /// <summary>Its own ablation: the same scheme with one setting changed, each with a row name
    /// ("clips-local").</summary>
    public virtual IEnumerable<(string Name, GenerationScheme Scheme)> Ablations => [];

    /// <summary>A short progress note, e.g. "level 2/3" or "step 4/8".</summary>
    public virtual string ProgressNote(GenerationProgress g) => $"level {g.Level}/{g.Levels}";

    /// <summary>Runs <paramref name="r"/> on <paramref name="pipe"/>'s models, filling <paramref name="known"/> with
    /// the latents of finished frames; yields whenever frames were added.</summary>
    protected internal abstract IEnumerable<int> Run(LongVideoPipeline pipe, GenerationRequest r,
        Dictionary<int, Tensor> known, IProgress<GenerationProgress>? progress, CancellationToken ct);

    /// <summary>What a rank other than 0 does in an MPI job: its share of the work, for rank 0, until it is
    /// done.</summary>
    public virtual void ServeRank(LongVideoPipeline pipe, GenerationRequest r, ICommunicator ranks,
        CancellationToken ct) =>
        throw new SettingException(nameof(GenerationRequest.Scheme), $"the {Name} scheme runs in one process, not " +
            "over ranks.");
}
