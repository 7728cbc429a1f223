namespace Longshot.Diffusion.Pipelines;

/// <summary>
/// What a generation computes, level by level: the frames inside the video that each level draws. It comes from the
/// schedule the scheme runs, so contact sheets and pages show exactly what was generated.
/// </summary>
/// <param name="Scheme">The scheme that runs the plan.</param>
/// <param name="Frames">Frames of the video.</param>
/// <param name="LevelFrames">Per level (0 = the first), the frames in [0, Frames) it generates, in order.</param>
/// <param name="Units">Units of every level.</param>
/// <param name="CriticalPath">Rounds of model calls that must run one after another: DoD's levels, AR's
/// units.</param>
public sealed record GenerationPlan(GenerationScheme Scheme, int Frames, IReadOnlyList<IReadOnlyList<int>> LevelFrames,
    int Units, int CriticalPath)
{
    /// <summary>The plan of a scheme that draws every frame in one level of <paramref name="units"/> units, taking
    /// <paramref name="criticalPath"/> rounds.</summary>
    public static GenerationPlan OneLevel(GenerationScheme scheme, int frames, int units, int criticalPath) =>
        new(scheme, frames, new[] { (IReadOnlyList<int>)Enumerable.Range(0, frames).ToList() }, units, criticalPath);

    /// <summary>A caption for level <paramref name="k"/> (0-based), e.g. "Level 1: 16 frames (global
    /// keyframes)".</summary>
    public string LevelTitle(int k) => $"Level {k + 1}: {LevelFrames[k].Count} frames"
        + (k == 0 && Scheme.HasKeyframes ? " (global keyframes)" : "");
}
