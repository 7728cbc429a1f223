using System.Diagnostics;
using System.Text.Json;

namespace Longshot.Bench;

/// <summary>Prints one benchmark figure, as JSON (one object per line) or as a readable line.</summary>
internal static class Report
{
    public static bool Json { get; set; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Emit(string bench, string @case, string backend, double value, string unit)
    {
        if (Json)
            Console.WriteLine(JsonSerializer.Serialize(new { bench, @case, backend, value = Math.Round(value, 3),
                unit }, JsonOptions));
        else
            Console.WriteLine($"{bench,-10} {@case,-34} {backend,-9} {value,12:F2} {unit}");
    }

    /// <summary>
    /// Median seconds per call of several contenders, measured in alternating blocks (A, B, A, B, ...) with a
    /// warm-up at the start of each block, so that slow drifts of a shared cloud core hit all of them alike while
    /// one backend's idle spinning threads do not spill into the other's timings.
    /// </summary>
    public static double[] TimeInterleaved(IReadOnlyList<Action> contenders, double secondsPerBlock = 0.6,
        int blocks = 3)
    {
        var times = contenders.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < blocks; round++)
            for (int i = 0; i < contenders.Count; i++)
            {
                for (int w = 0; w < 3; w++) contenders[i]();
                var block = Stopwatch.StartNew();
                while (block.Elapsed.TotalSeconds < secondsPerBlock || times[i].Count < 3 * (round + 1))
                {
                    var sw = Stopwatch.StartNew();
                    contenders[i]();
                    times[i].Add(sw.Elapsed.TotalSeconds);
                }
            }
        return times.Select(t => { t.Sort(); return t[t.Count / 2]; }).ToArray();
    }

    /// <summary>Median seconds per call after warm-up, running at least minSeconds in total.</summary>
    public static double Time(Action f, int warmup = 2, double minSeconds = 1.0, int minReps = 3)
    {
        for (int i = 0; i < warmup; i++) f();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < minReps || total.Elapsed.TotalSeconds < minSeconds)
        {
            var sw = Stopwatch.StartNew();
            f();
            times.Add(sw.Elapsed.TotalSeconds);
            if (times.Count > 200) break;
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
