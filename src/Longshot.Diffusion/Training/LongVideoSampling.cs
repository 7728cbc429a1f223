using Longshot.Diffusion.Pipelines;
using Longshot.Tensors;

namespace Longshot.Diffusion.Training;

/// <summary>Which frames of a long video one training example uses, and which of them are given as
/// conditions.</summary>
/// <param name="Frames">Indices into the episode, increasing, <see cref="Stride"/> apart.</param>
/// <param name="Given">Per frame: true when it is a visual condition (clean input), false when it is generated.</param>
public sealed record TrainingClip(int[] Frames, bool[] Given, int Stride, int Level);

/// <summary>
/// Training directly on long videos (NUWA-XL section 3.3). With local length L and depth m, level 1 (the global
/// model) sees L frames at stride (L-1)^(m-1) with nothing given; level k > 1 (a local model) sees L frames at stride
/// (L-1)^(m-k) with the first and last given and the L-2 between them to generate. Offsets are random.
/// </summary>
public static class LongVideoSampling
{
    /// <summary>Stride of level k (1-based) for local length L and depth m.</summary>
    public static int Stride(int level, int depth, int length)
    {
        if (length < 3) throw new LongshotException($"local length L = {length} must be >= 3.");
        if (level < 1 || level > depth)
            throw new LongshotException($"level {level} must be between 1 and the depth {depth}.");
        long s = 1;
        for (int i = 0; i < depth - level; i++) s *= length - 1;
        if (s > int.MaxValue / length) throw new LongshotException($"L = {length} with depth {depth} is too long.");
        return (int)s;
    }

    /// <summary>Frames a full hierarchy of depth m covers: (L-1)^m + 1 (16 -> 226 -> 3376 for L = 16).</summary>
    public static int Coverage(int depth, int length) => Stride(1, depth, length) * (length - 1) + 1;

    /// <summary>
    /// Draws one training clip of level <paramref name="level"/> from an episode of <paramref name="episodeFrames"/>
    /// frames. With <paramref name="conditioned"/> false nothing is given whatever the level (the global model
    /// learning the finer strides).
    /// </summary>
    public static TrainingClip Sample(int level, int depth, int length, int episodeFrames, Rng rng,
        bool conditioned = true)
    {
        int stride = Stride(level, depth, length);
        int span = (length - 1) * stride + 1;
        if (span > episodeFrames)
            throw new LongshotException($"level {level} needs {span} frames ({length} at stride {stride}) but the " +
                $"episode has {episodeFrames}; use longer episodes or a smaller depth.");
        int start = rng.NextInt(episodeFrames - span + 1);
        var frames = Enumerable.Range(0, length).Select(i => start + i * stride).ToArray();
        var given = new bool[length];
        if (conditioned && level > 1) { given[0] = true; given[^1] = true; }
        return new TrainingClip(frames, given, stride, level);
    }

    /// <summary>
    /// Draws one training unit exactly as generation plans them (<see cref="DodSchedule"/>): a request length N,
    /// log-uniform between L (L + 1 for a local unit) and the episode's length, its schedule, then a unit of
    /// <paramref name="level"/> (the global unit at level 1; a local level the schedule lacks makes N be drawn
    /// again), placed at a random offset in the episode. Spacings are then those of real requests: unequal by one
    /// frame, and the finest units shorter than L where N is not a full hierarchy.
    /// </summary>
    public static TrainingClip SampleRequest(int level, int length, int episodeFrames, Rng rng)
    {
        if (episodeFrames < length + 1)
            throw new LongshotException($"an episode of {episodeFrames} frames is too short for units of {length}.");
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            int lo = level == 1 ? length : length + 1;
            int n = (int)Math.Round(Math.Exp(Math.Log(lo) + rng.NextFloat() * (Math.Log(episodeFrames) -
                Math.Log(lo))));
            n = Math.Clamp(n, lo, episodeFrames);
            var schedule = new DodSchedule(n, length);
            if (level > schedule.Depth) continue;
            var units = schedule.Levels[level - 1];
            var unit = units[rng.NextInt(units.Count)];
            int start = rng.NextInt(episodeFrames - n + 1);
            var frames = unit.Positions.Select(p => start + p).ToArray();
            return new TrainingClip(frames, (bool[])unit.Given.Clone(), MaxStride(frames), level);
        }
        throw new LongshotException($"no request of at most {episodeFrames} frames has a level {level} with L = " +
            $"{length}.");
    }

    /// <summary>The largest gap between neighbouring frames of a unit (1 for a single frame).</summary>
    public static int MaxStride(IReadOnlyList<int> frames) =>
        frames.Zip(frames.Skip(1), (a, b) => b - a).DefaultIfEmpty(1).Max();

    /// <summary>The same unit shape as <paramref name="template"/> at a random offset of another episode (the other
    /// clips of a batch, which must share one length).</summary>
    public static TrainingClip Like(TrainingClip template, int episodeFrames, Rng rng)
    {
        int span = template.Frames[^1] - template.Frames[0] + 1;
        if (span > episodeFrames)
            throw new LongshotException($"a unit spanning {span} frames does not fit an episode of {episodeFrames}.");
        int start = rng.NextInt(episodeFrames - span + 1);
        return template with { Frames = template.Frames.Select(f => f - template.Frames[0] + start).ToArray() };
    }
}
