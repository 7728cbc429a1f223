using Longshot.Diffusion.Clips;
using Longshot.Tensors;

namespace Longshot.Diffusion.Pipelines;

/// <summary>
/// One generation, described once: the storyline and length, the scheme, the unit length L, the seed, the sampler,
/// and the run folder that makes it resumable. The CLI, the bench, the evaluation and the studio all build one of
/// these and hand it to <see cref="LongVideoPipeline"/>.
/// </summary>
/// <param name="Story">Prompts per frame range; it must cover <paramref name="Frames"/>.</param>
/// <param name="Frames">Frames to generate.</param>
public sealed record GenerationRequest(Storyline Story, int Frames)
{
    /// <summary>The most frames one generation may ask for (about 4.9 hours at 24 fps).</summary>
    public const int MaxFrames = 1 << 19;

    /// <summary>How the video is made.</summary>
    public GenerationScheme Scheme { get; init; } = GenerationScheme.DiffusionOverDiffusion;

    /// <summary>Frames per model call (L); the models must have been trained for it.</summary>
    public int Length { get; init; } = 16;

    /// <summary>Levels of the diffusion-over-diffusion hierarchy (null: <see cref="DodSchedule.DefaultDepth"/>; more
    /// split every level into fewer steps, see <see cref="DodSchedule"/>).</summary>
    public int? Depth { get; init; }

    /// <summary>Every unit's noise derives from this seed, its level and its index.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Scheduler, steps and guidance of every unit.</summary>
    public SamplerOptions Sampler { get; init; } = ShippedModels.Sampler;

    /// <summary>The first frame, [3, H, W] in [-1, 1], given to the extended scheme (null: the global model draws
    /// it).</summary>
    public Tensor? FirstFrame { get; init; }

    /// <summary>Clip length and attention scope of the clip-parallel scheme.</summary>
    public ClipSettings Clips { get; init; } = new();

    /// <summary>
    /// Folder that keeps every finished unit (DoD) or every clip's state after each step (clips): a rerun of the
    /// same request loads them instead of sampling again and writes the identical video. Null: nothing is kept.
    /// </summary>
    public string? RunDir { get; init; }

    /// <summary>Throws <see cref="LongshotException"/> naming the first setting that cannot work.</summary>
    public GenerationRequest Validate()
    {
        if (Frames < 1 || Frames > MaxFrames)
            throw new LongshotException($"frames must be between 1 and {MaxFrames}, got {Frames}.");
        if (Length < 3 || Length > 1024)
            throw new LongshotException($"length (L) must be between 3 and 1024, got {Length}.");
        if (Story.Frames < Frames)
            throw new LongshotException($"the storyline ends at frame {Story.Frames}, before the {Frames} frames " +
                $"asked for.");
        if (Depth != null && Scheme != GenerationScheme.DiffusionOverDiffusion)
            throw new LongshotException($"depth: the {Scheme.Name()} scheme has no hierarchy (--depth is for dod).");
        if (Scheme == GenerationScheme.DiffusionOverDiffusion) Schedule();
        if (FirstFrame != null && Scheme != GenerationScheme.Extended)
            throw new LongshotException("an initial image is given to the extended scheme only (--scheme extended).");
        if (RunDir != null && Scheme is GenerationScheme.Autoregressive or GenerationScheme.Extended)
            throw new LongshotException($"a run folder keeps diffusion-over-diffusion units or clip states; the " +
                $"{Scheme.Name()} scheme cannot resume.");
        Sampler.Validate();
        if (Scheme == GenerationScheme.ClipParallel) Clips.Validate(Frames);
        return this;
    }

    /// <summary>The diffusion-over-diffusion schedule of this request.</summary>
    public DodSchedule Schedule() => new(Frames, Length, Depth);

    /// <summary>The settings that decide the video, as a stable text (run folders are keyed by it; "spread" marks the
    /// schedule over exactly the requested frames, so a folder from the earlier schedule is not mixed in).</summary>
    internal string Identity =>
        $"{Scheme.Name()}|{Frames}|{Length}|{Seed}|{Sampler.Identity}|"
        + (Scheme == GenerationScheme.DiffusionOverDiffusion ? $"spread|{Depth?.ToString() ?? "auto"}|" : "")
        + (Scheme == GenerationScheme.ClipParallel ? Clips.Identity + "|" : "")
        + string.Join("\n", Story.Segments.Select(x => $"{x.Start}-{x.End}:{x.Prompt}"));
}
