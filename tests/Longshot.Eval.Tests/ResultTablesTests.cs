using Longshot.Eval.Benchmark;
using Longshot.Eval.Metrics;
using Longshot.Video.Store;
using Longshot.Video.Toonworld;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Eval.Tests;

public class ResultTablesTests
{
    private static BenchmarkRow Row(int n, string scheme, double fid) =>
        new(n, scheme, 1024 / n, new VideoScores(fid, fid * 10, 0.5, double.NaN, 0.01, 1, 1024, 64), 12.5);

    [Fact]
    public void TablesListEveryRowInOrderAndMarkUndefinedScores()
    {
        var rows = new[] { Row(256, "ar", 40), Row(16, "dod", 30), Row(256, "dod", 31), Row(16, "ar", 29),
            Row(16, "real", 0), Row(256, "clips-local", 33) with { SeamScore = 1.25 }, Row(256, "clips", 32) };
        var md = ResultTables.Markdown(rows, "test").Split('\n').Where(l => l.StartsWith("| 1") || l.StartsWith("| 2"))
            .ToList();
        Assert.Equal(7, md.Count);
        Assert.StartsWith("| 16 | dod |", md[0]);
        Assert.StartsWith("| 16 | ar |", md[1]);
        Assert.StartsWith("| 16 | real |", md[2]);
        Assert.StartsWith("| 256 | dod |", md[3]);
        Assert.StartsWith("| 256 | clips |", md[5]);
        Assert.StartsWith("| 256 | clips-local |", md[6]);
        Assert.Contains("| 1.25 |", md[6]);
        Assert.Contains("| 30.00 | 300.00 | 50.0% | n/a |", md[0]);
        var csv = ResultTables.Csv(rows).Trim().Split('\n');
        Assert.Equal(8, csv.Length);
        Assert.Equal("16,dod,64,30,300,0.5,n/a,0.01,1,12.5,1024,64,n/a", csv[1]);
        // Story accuracy by attribute, for rows that carry it; the VAE's reconstruction row has no time.
        var attributes = new Dictionary<string, double> { ["place"] = 0.5, ["time"] = 1, ["framing"] = double.NaN,
            ["shirt"] = 0.25, ["accessory"] = 0 };
        var withAttributes = rows.Append(Row(16, LongVideoBenchmark.ReconstructedRow, 5) with
        {
            Scores = Row(16, "vae", 5).Scores with { StoryByAttribute = attributes },
        }).ToList();
        var lines = ResultTables.Markdown(withAttributes, "test").Split('\n');
        Assert.Contains("| 16 | vae | 50.0% | 100.0% | n/a | 25.0% | 0.0% |", lines);
        Assert.Contains(lines, l => l.StartsWith("| 16 | vae | 64 | 5.00 |") && l.EndsWith("| — |"));
        // Story accuracy by level, for rows that carry it (a deeper row sets the columns; shallower ones get dashes).
        var leveled = rows.Append(Row(1024, "dod", 20) with
        {
            Scores = Row(1024, "dod", 20).Scores with { StoryByLevel = new[] { 0.5, 0.25, 0.125 } },
        }).Append(Row(256, "dod", 31) with
        {
            Scores = Row(256, "dod", 31).Scores with { StoryByLevel = new[] { 0.5, 0.375 } },
        }).ToList();
        var levelLines = ResultTables.Markdown(leveled, "test").Split('\n');
        Assert.Contains("| frames | scheme | level 1 | level 2 | level 3 |", levelLines);
        Assert.Contains("| 1024 | dod | 50.0% | 25.0% | 12.5% |", levelLines);
        Assert.Contains("| 256 | dod | 50.0% | 37.5% | — |", levelLines);
        Assert.DoesNotContain("level 1", ResultTables.Markdown(rows, "test"));
        var svg = ResultTables.Chart(rows);
        Assert.StartsWith("<svg", svg);
        Assert.Equal(3 * 2, svg.Split("<polyline").Length - 1); // dod, ar and clips, in two panels
    }

    [Fact]
    public void WindowsSpreadOverTheTestEpisodesAndFitInside()
    {
        var dir = Directory.CreateTempSubdirectory("longshot-windows-").FullName;
        try
        {
            DatasetBuilder.GenerateToonworld(dir,
                new ToonworldSettings { Frames = 100, Width = 16, Height = 16, Seed = 2 }, 3);
            using var store = DatasetStore.Open(dir);
            var eps = store.Episodes.ToList();
            var w = LongVideoBenchmark.Windows(eps, 16, 7);
            Assert.Equal(7, w.Count);
            Assert.All(w, x => Assert.InRange(x.Start, 0, 100 - 16));
            Assert.Equal(3, w.Select(x => x.Ep.Entry.Name).Distinct().Count());
            Assert.Equal(7, w.Select(x => (x.Ep.Entry.Name, x.Start)).Distinct().Count());
            Assert.ThrowsAny<LongshotException>(() => LongVideoBenchmark.Windows(eps, 101, 1));
        }
        finally { Directory.Delete(dir, true); }
    }
}
