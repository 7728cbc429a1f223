using Longshot.Diffusion.Pipelines;
using Longshot.Tensors;

namespace Longshot.Diffusion.Distributed;

/// <summary>
/// What travels between rank 0 and a sampling rank, as one float message each way. Work: [count, (level, index) per
/// unit, then the latents of every given frame of every unit in order]; a count of 0 means stop. Result: [count,
/// (level, index) per unit, then each unit's latents [L, c, h, w]]. Floats hold levels and indices exactly (below
/// 2^24).
/// </summary>
internal static class RankMessages
{
    public const int WorkTag = 21, ResultTag = 22;

    public static float[] Stop { get; } = { 0f };

    public static float[] Work(List<WorkUnit> batch, Dictionary<int, Tensor> known)
    {
        var data = new List<float> { batch.Count };
        foreach (var u in batch) { data.Add(u.Level); data.Add(u.Index); }
        foreach (var u in batch)
            for (int f = 0; f < u.Positions.Length; f++)
                if (u.Given[f]) data.AddRange(known[u.Positions[f]].ToArray());
        return data.ToArray();
    }

    /// <summary>The given frames' latents a work message carries, by frame position (the inverse of <see
    /// cref="Work"/>).</summary>
    public static Dictionary<int, Tensor> Given(float[] message, List<WorkUnit> units, Func<WorkUnit, int[]> shapeOf)
    {
        var known = new Dictionary<int, Tensor>();
        int at = PayloadStart(units.Count);
        foreach (var u in units)
        {
            var frame = shapeOf(u)[1..];
            int perFrame = frame.Aggregate(1, (a, b) => a * b);
            for (int f = 0; f < u.Positions.Length; f++)
            {
                if (!u.Given[f]) continue;
                known[u.Positions[f]] = Tensor.FromArray(message.AsSpan(at, perFrame).ToArray(), frame);
                at += perFrame;
            }
        }
        return known;
    }

    public static float[] Result(List<WorkUnit> batch, List<Tensor> latents)
    {
        var data = new List<float> { batch.Count };
        foreach (var u in batch) { data.Add(u.Level); data.Add(u.Index); }
        foreach (var t in latents) data.AddRange(t.ToArray());
        return data.ToArray();
    }

    /// <summary>The units a message names, looked up in the schedule both ranks built from the same request.</summary>
    public static List<WorkUnit> Units(float[] message, DodSchedule schedule)
    {
        int count = (int)message[0];
        var units = new List<WorkUnit>(count);
        for (int k = 0; k < count; k++)
        {
            int level = (int)message[1 + 2 * k], index = (int)message[2 + 2 * k];
            if (level < 1 || level > schedule.Levels.Count || index < 0 || index >= schedule.Levels[level - 1].Count)
                throw new InvalidOperationException($"rank message names unit {index} of level {level}, not in this " +
                    $"schedule.");
            units.Add(schedule.Levels[level - 1][index]);
        }
        return units;
    }

    /// <summary>Where the payload of a message naming <paramref name="count"/> units starts.</summary>
    public static int PayloadStart(int count) => 1 + 2 * count;
}
