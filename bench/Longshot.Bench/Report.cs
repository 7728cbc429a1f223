using System.Diagnostics;
using System.Text.Json;

namespace Longshot.Bench;

/// <summary>Prints one benchmark figure, as JSON (one object per line) or as a readable line.</summary>
internal static class Report
{
    public static bool Json { get; set; }

    public static void Emit(string bench, string @case, string backend, double value, string unit)
    {
        if (Json)
            Console.WriteLine(JsonSerializer.Serialize(new { bench, @case, backend, value = Math.Round(value, 3), unit }));
        else
            Console.WriteLine($"{bench,-10} {@case,-34} {backend,-9} {value,12:F2} {unit}");
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
