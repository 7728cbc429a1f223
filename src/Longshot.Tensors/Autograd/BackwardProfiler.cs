using System.Diagnostics;

namespace Longshot.Tensors.Autograd;

/// <summary>Time spent in each op's backward rule, collected when <see cref="Enabled"/> is set
/// (LONGSHOT_PROFILE=1).</summary>
public static class BackwardProfiler
{
    private static readonly long[] Ticks = new long[Enum.GetValues<OpKind>().Length];
    private static readonly int[] Counts = new int[Ticks.Length];

    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("LONGSHOT_PROFILE") == "1";

    internal static long Start() => Enabled ? Stopwatch.GetTimestamp() : 0;

    internal static void Stop(OpKind kind, long start)
    {
        if (!Enabled) return;
        Interlocked.Add(ref Ticks[(int)kind], Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref Counts[(int)kind]);
    }

    /// <summary>Milliseconds and calls per op kind, largest first.</summary>
    public static IEnumerable<(string Op, double Ms, int Calls)> Report() =>
        Enum.GetValues<OpKind>()
            .Select(k => (k.ToString(), Ticks[(int)k] * 1000.0 / Stopwatch.Frequency, Counts[(int)k]))
            .Where(r => r.Item3 > 0).OrderByDescending(r => r.Item2);

    public static void Reset() { Array.Clear(Ticks); Array.Clear(Counts); }
}
