namespace Longshot.Diffusion.Pipelines;

/// <summary>
/// What a generation computes, level by level: the frames inside the video that each level draws. It comes from the
/// schedule the pipeline runs, so contact sheets and pages show exactly what was generated.
/// </summary>
public sealed class GenerationPlan
{
    /// <summary>The scheme that runs the plan.</summary>
    public GenerationScheme Scheme { get; }

    /// <summary>Frames of the video.</summary>
    public int Frames { get; }

    /// <summary>Per level (0 = the first), the frames in [0, Frames) it generates, in order.</summary>
    public IReadOnlyList<IReadOnlyList<int>> LevelFrames { get; }

    /// <summary>Units of every level.</summary>
    public int Units { get; }

    /// <summary>Rounds of model calls that must run one after another: DoD's levels, AR's units.</summary>
    public int CriticalPath { get; }

    private GenerationPlan(GenerationScheme scheme, int frames, IReadOnlyList<IReadOnlyList<int>> levels, int units,
        int path)
    {
        Scheme = scheme; Frames = frames; LevelFrames = levels; Units = units; CriticalPath = path;
    }

    /// <summary>The plan of diffusion over diffusion: one level per level of the schedule.</summary>
    public static GenerationPlan Of(DodSchedule s) => new(GenerationScheme.DiffusionOverDiffusion, s.Frames,
        s.Levels.Select(l => (IReadOnlyList<int>)l.SelectMany(u => u.Generates).Where(p => p < s.Frames)
            .Distinct().Order().ToList()).ToList(), s.Levels.Sum(l => l.Count), s.CriticalPath);

    /// <summary>The plan of the autoregressive baseline: one level holding every frame.</summary>
    public static GenerationPlan Of(AutoregressiveSchedule s) => new(GenerationScheme.Autoregressive, s.Frames,
        new[] { (IReadOnlyList<int>)Enumerable.Range(0, s.Frames).ToList() }, s.Units.Count, s.CriticalPath);

    /// <summary>The plan of a scheme that draws every frame in one unit (the extended model): one level, one
    /// unit.</summary>
    public static GenerationPlan Single(GenerationScheme scheme, int frames) => new(scheme, frames,
        new[] { (IReadOnlyList<int>)Enumerable.Range(0, frames).ToList() }, 1, 1);

    /// <summary>The plan of clip parallelism: one level holding every frame, one unit per clip, all at once.</summary>
    public static GenerationPlan Of(Clips.ClipLayout s) => new(GenerationScheme.ClipParallel, s.Frames,
        new[] { (IReadOnlyList<int>)Enumerable.Range(0, s.Frames).ToList() }, s.Clips, 1);

    /// <summary>A caption for level <paramref name="k"/> (0-based), e.g. "Level 1: 16 frames (global
    /// keyframes)".</summary>
    public string LevelTitle(int k) => $"Level {k + 1}: {LevelFrames[k].Count} frames"
        + (k == 0 && Scheme == GenerationScheme.DiffusionOverDiffusion ? " (global keyframes)" : "");
}
