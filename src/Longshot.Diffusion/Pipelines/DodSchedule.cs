using Longshot.Tensors;

namespace Longshot.Diffusion.Pipelines;

/// <summary>
/// One independent piece of work: a level-k diffusion over L frames at the given positions, some of which are given
/// (already generated) as visual conditions. Level 1 (global) has none; a DoD local unit has its first and last
/// frames given; an autoregressive unit its first. Units of a DoD level never depend on each other, so they can run
/// in any order, batched, or on other machines.
/// </summary>
public sealed record WorkUnit(int Level, int Index, int[] Positions, bool[] Given)
{
    public bool IsGlobal => Level == 1;

    /// <summary>Positions the unit must generate.</summary>
    public IEnumerable<int> Generates => Positions.Where((_, i) => !Given[i]);

    internal static bool[] Ends(int l, bool first, bool last)
    {
        var g = new bool[l];
        g[0] = first; g[^1] = last;
        return g;
    }
}

/// <summary>
/// The diffusion-over-diffusion schedule (NUWA-XL section 3.3): the global model draws L keyframes over the whole
/// hierarchy of (L-1)^m + 1 frames (m the smallest depth that covers N), then each level splits every gap between
/// neighbouring frames into L-1 steps with one local unit per gap, down to consecutive frames. For a requested length
/// only the units whose gap reaches into [0, N) are planned, so for N below the hierarchy's span fewer than L
/// keyframes fall inside the video (5 of 16 at N = 1,024 with L = 16).
/// </summary>
public sealed class DodSchedule
{
    public int Frames { get; }
    public int Length { get; }
    public int Depth { get; }
    public IReadOnlyList<IReadOnlyList<WorkUnit>> Levels { get; }

    public DodSchedule(int frames, int length, int? depth = null)
    {
        if (frames < 1) throw new LongshotException($"DoD: frames must be >= 1, got {frames}.");
        if (length < 3) throw new LongshotException($"DoD: L must be >= 3, got {length}.");
        Frames = frames; Length = length;
        Depth = depth ?? DepthFor(frames, length);
        long coverage = (long)Math.Pow(length - 1, Depth) + 1;
        if (coverage < frames)
            throw new LongshotException($"DoD: depth {Depth} with L = {length} covers {coverage} frames, fewer than " +
            $"the {frames} asked for.");
        var levels = new List<IReadOnlyList<WorkUnit>>();
        long stride = (long)Math.Pow(length - 1, Depth - 1);
        levels.Add(new[] { new WorkUnit(1, 0, Enumerable.Range(0, length).Select(i => (int)(i * stride)).ToArray(),
            new bool[length]) });
        for (int k = 2; k <= Depth; k++)
        {
            long gap = stride;
            stride = gap / (length - 1);
            var units = new List<WorkUnit>();
            // Gaps start at every multiple of the previous stride below the last needed frame.
            for (long a = 0; a < frames - 1; a += gap)
                units.Add(new WorkUnit(k, units.Count, Enumerable.Range(0, length).Select(i => (int)(a + i * stride))
                    .ToArray(), WorkUnit.Ends(length, true, true)));
            levels.Add(units);
        }
        Levels = levels;
    }

    /// <summary>Smallest depth m with (L-1)^m + 1 >= frames.</summary>
    public static int DepthFor(int frames, int length)
    {
        int m = 1;
        long c = length;
        while (c < frames) { m++; c = (c - 1) * (length - 1) + 1; }
        return m;
    }

    /// <summary>All units, level by level.</summary>
    public IEnumerable<WorkUnit> Units => Levels.SelectMany(l => l);

    /// <summary>Sequential rounds of model calls from start to the last frame: one per level.</summary>
    public int CriticalPath => Levels.Count;
}

/// <summary>
/// FDM's "autoreg" scheme with the same local model, for comparison: the first L frames come from the global model at
/// stride 1; then each unit conditions on the last frame generated so far (its first frame) and generates the next
/// L-1 frames (positions consecutive), one after another. The local model must have been trained with such
/// first-frame-only masks too for this to be a fair baseline.
/// </summary>
public sealed class AutoregressiveSchedule
{
    public int Frames { get; }
    public int Length { get; }
    public IReadOnlyList<WorkUnit> Units { get; }

    public AutoregressiveSchedule(int frames, int length)
    {
        if (frames < 1 || length < 3) throw new LongshotException("AR: frames must be >= 1 and L >= 3.");
        Frames = frames; Length = length;
        var units = new List<WorkUnit> { new(1, 0, Enumerable.Range(0, length).ToArray(), new bool[length]) };
        for (int start = length - 1; start < frames - 1; start += length - 1)
            units.Add(new WorkUnit(2, units.Count, Enumerable.Range(start, length).ToArray(),
                WorkUnit.Ends(length, true, false)));
        Units = units;
    }

    /// <summary>Every unit depends on the previous one.</summary>
    public int CriticalPath => Units.Count;
}
