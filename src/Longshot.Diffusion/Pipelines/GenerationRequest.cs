using Longshot.Tensors;

namespace Longshot.Diffusion.Pipelines;

/// <summary>
/// One generation, described once: the storyline and length, the scheme (with its own settings), the unit length L,
/// the seed, the sampler, and the run folder that makes it resumable. The CLI, the bench, the evaluation and the
/// studio all build one of these and hand it to <see cref="LongVideoPipeline"/>.
/// </summary>
/// <param name="Story">Prompts per frame range; it must cover <paramref name="Frames"/>.</param>
/// <param name="Frames">Frames to generate.</param>
public sealed record GenerationRequest(Storyline Story, int Frames)
{
    /// <summary>The most frames one generation may ask for (about 4.9 hours at 24 fps).</summary>
    public const int MaxFrames = 1 << 19;

    /// <summary>How the video is made, with that scheme's own settings (<c>Longshot.Diffusion.Schemes</c>).</summary>
    public required GenerationScheme Scheme { get; init; }

    /// <summary>Frames per model call (L); the models must have been trained for it.</summary>
    public int Length { get; init; } = 16;

    /// <summary>Every unit's noise derives from this seed, its level and its index.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Scheduler, steps and guidance of every unit.</summary>
    public SamplerOptions Sampler { get; init; } = SamplerOptions.Shipped;

    /// <summary>
    /// Folder that keeps every finished unit (DoD) or every clip's state after each step (clips): a rerun of the
    /// same request loads them instead of sampling again and writes the identical video. Null: nothing is kept.
    /// </summary>
    public string? RunDir { get; init; }

    /// <summary>Throws <see cref="SettingException"/> naming the first setting that cannot work.</summary>
    public GenerationRequest Validate()
    {
        if (Frames < 1 || Frames > MaxFrames)
            throw new SettingException(nameof(Frames), $"must be between 1 and {MaxFrames}, got {Frames}.");
        if (Length < 3 || Length > 1024)
            throw new SettingException(nameof(Length), $"frames per model call (L) must be between 3 and 1024, got " +
                $"{Length}.");
        if (Story.Frames < Frames)
            throw new SettingException(nameof(Story), $"the storyline ends at frame {Story.Frames}, before the " +
                $"{Frames} frames asked for.");
        if (RunDir != null && !Scheme.Resumes)
            throw new SettingException(nameof(RunDir), $"a run folder keeps diffusion-over-diffusion units or clip " +
                $"states; the {Scheme.Name} scheme cannot resume.");
        Sampler.Validate();
        Scheme.Validate(this);
        return this;
    }

    /// <summary>The settings that decide the video, as a stable text (run folders are keyed by it).</summary>
    internal string Identity =>
        $"{Scheme.Name}|{Frames}|{Length}|{Seed}|{Sampler.Identity}|{Scheme.Identity}"
        + string.Join("\n", Story.Segments.Select(x => $"{x.Start}-{x.End}:{x.Prompt}"));
}
