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

    /// <summary>Its positions relative to the first, as text: units batched into one model call share it.</summary>
    public string Spacing => string.Join(",", Positions.Select(p => p - Positions[0]));

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
/// The diffusion-over-diffusion schedule (NUWA-XL section 3.3) over exactly the requested frames [0, N): the global
/// model draws L keyframes spread evenly over the whole video (rounded positions, so spacings differ by at most one),
/// then each level splits every gap between neighbouring frames into L-1 nearly equal steps with one local unit per
/// gap (first and last frames given), down to consecutive frames. A gap shorter than L-1 is filled by a unit of its
/// own length, so the finest units can be shorter than L. The depth m is by default the smallest with
/// (L-1)^m >= N-1, deeper where that would put the keyframes closer than 8 frames (<see cref="DefaultDepth"/>); a
/// larger one may be asked for, and then every level splits into the fewest steps s (s^m >= N-1) that still reach
/// consecutive frames, so that all m levels take part.
/// </summary>
public sealed class DodSchedule
{
    public int Frames { get; }
    public int Length { get; }
    public int Depth { get; }

    /// <summary>Steps each gap is split into (L-1 at the automatic depth).</summary>
    public int Steps { get; }

    public IReadOnlyList<IReadOnlyList<WorkUnit>> Levels { get; }

    public DodSchedule(int frames, int length, int? depth = null)
    {
        if (frames < 1) throw new SettingException("Frames", $"DoD: frames must be >= 1, got {frames}.");
        if (length < 3) throw new SettingException("Length", $"DoD: L must be >= 3, got {length}.");
        Frames = frames; Length = length;
        int auto = DepthFor(frames, length);
        Depth = depth ?? DefaultDepth(frames, length);
        if (Depth < auto)
            throw new SettingException("Depth", $"DoD: depth {Depth} with L = {length} reaches at most " +
                $"{Coverage(Depth, length)} frames, fewer than the {frames} asked for (depth {auto} is needed).");
        Steps = StepsAt(frames, length, Depth);
        var keyframes = Spread(0, frames - 1, Math.Min(Steps, frames - 1));
        var levels = new List<IReadOnlyList<WorkUnit>>
        {
            new[] { new WorkUnit(1, 0, keyframes, new bool[keyframes.Length]) },
        };
        var points = new SortedSet<int>(keyframes);
        for (int k = 2; k <= Depth; k++)
        {
            var units = new List<WorkUnit>();
            var sorted = points.ToArray();
            for (int i = 0; i + 1 < sorted.Length; i++)
            {
                int a = sorted[i], b = sorted[i + 1];
                if (b - a < 2) continue;
                var positions = Spread(a, b, Math.Min(Steps, b - a));
                units.Add(new WorkUnit(k, units.Count, positions, WorkUnit.Ends(positions.Length, true, true)));
            }
            foreach (var u in units) points.UnionWith(u.Positions);
            levels.Add(units);
        }
        if (points.Count != frames)
            throw new InvalidOperationException($"DoD: the schedule covers {points.Count} of {frames} frames.");
        Levels = levels;
    }

    /// <summary>
    /// <paramref name="steps"/> + 1 positions from <paramref name="a"/> to <paramref name="b"/>, evenly spaced and
    /// rounded to the nearest frame (distinct while steps &lt;= b - a).
    /// </summary>
    public static int[] Spread(int a, int b, int steps)
    {
        if (steps < 1) return new[] { a };
        long g = b - a;
        return Enumerable.Range(0, steps + 1).Select(j => a + (int)((2 * j * g + steps) / (2L * steps))).ToArray();
    }

    /// <summary>Smallest depth m with (L-1)^m >= frames - 1 (1 for a video no longer than L).</summary>
    public static int DepthFor(int frames, int length)
    {
        int m = 1;
        long c = length;
        while (c < frames) { m++; c = (c - 1) * (length - 1) + 1; }
        return m;
    }

    /// <summary>Global keyframes are at least this many frames apart when the video allows it.</summary>
    public const int MinKeyframeSpacing = 8;

    /// <summary>
    /// The depth used when none is asked for: <see cref="DepthFor"/>, deepened while the global keyframes would be
    /// closer than <see cref="MinKeyframeSpacing"/> frames and a deeper level still means fewer of them (a 16-frame
    /// video: keyframes 0, 8, 15 and three levels of fills). Keyframes a few frames apart are drawn by the global
    /// model as near-independent pictures, so the video flickers (16 frames: jitter 0.046 as one global unit,
    /// 0.0089 with four levels; docs/results.md); the local model's fills change smoothly between given frames.
    /// </summary>
    public static int DefaultDepth(int frames, int length)
    {
        int depth = DepthFor(frames, length);
        while (KeySteps(frames, length, depth) > 2
               && (frames - 1) / (double)KeySteps(frames, length, depth) < MinKeyframeSpacing
               && KeySteps(frames, length, depth + 1) < KeySteps(frames, length, depth)) depth++;
        return depth;
    }

    /// <summary>Steps between the global keyframes at a depth (one fewer than their number).</summary>
    private static int KeySteps(int frames, int length, int depth) =>
        Math.Min(frames - 1, StepsAt(frames, length, depth));

    /// <summary>Steps each gap is split into at a depth: L-1 at the reaching depth, else the fewest that
    /// reach.</summary>
    private static int StepsAt(int frames, int length, int depth) =>
        depth == DepthFor(frames, length) ? length - 1 : FewestSteps(frames - 1, depth);

    /// <summary>Most frames depth m reaches with units of L frames: (L-1)^m + 1.</summary>
    public static long Coverage(int depth, int length)
    {
        long c = 1;
        for (int i = 0; i < depth && c < int.MaxValue; i++) c *= length - 1;
        return c + 1;
    }

    /// <summary>Fewest steps s with s^depth >= span.</summary>
    private static int FewestSteps(int span, int depth)
    {
        int s = 1;
        while (Math.Pow(s, depth) < span) s++;
        return s;
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
        if (frames < 1 || length < 3) throw new SettingException("Length", "AR: frames must be >= 1 and L >= 3.");
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
