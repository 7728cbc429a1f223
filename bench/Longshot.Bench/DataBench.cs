using System.Diagnostics;
using Longshot.Video.Store;
using Longshot.Video.Toonworld;

namespace Longshot.Bench;

/// <summary>Toonworld generation speed and random access into a dataset store.</summary>
internal static class DataBench
{
    public static void Toonworld()
    {
        var settings = new ToonworldSettings { Frames = 3376, Width = 64, Height = 64, Seed = 1 };
        var ep = new ToonworldEpisode(settings, 0);
        ep.RenderRange(0, 256);
        var sw = Stopwatch.StartNew();
        int n = ep.Frames().Count();
        Report.Emit("toonworld", "render 64x64 (frames, captions, annotations)", "2 cores",
            n / sw.Elapsed.TotalSeconds, "frames/s");

        var dir = Path.Combine(Path.GetTempPath(), $"longshot-bench-{Guid.NewGuid():N}");
        try
        {
            sw.Restart();
            DatasetBuilder.GenerateToonworld(dir, settings, 2);
            Report.Emit("toonworld", "generate into a store 64x64 (2 episodes)", "2 cores",
                2 * settings.Frames / sw.Elapsed.TotalSeconds, "frames/s");

            using var store = DatasetStore.Open(dir);
            var rng = new Random(1);
            var ep0 = store.Episodes[1];
            ep0.ReadFrame(0);
            var times = new List<double>();
            for (int i = 0; i < 2000; i++)
            {
                int f = rng.Next(ep0.FrameCount);
                var t = Stopwatch.StartNew();
                ep0.ReadFrame(f);
                times.Add(t.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            Report.Emit("store", "random frame read 64x64, median", "1 thread", times[times.Count / 2], "ms");
            Report.Emit("store", "random frame read 64x64, p99", "1 thread", times[(int)(times.Count * 0.99)], "ms");
        }
        finally { Directory.Delete(dir, true); }
    }
}
