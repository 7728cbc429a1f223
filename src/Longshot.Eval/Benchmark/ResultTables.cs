using System.Globalization;
using System.Text;
using Longshot.Diffusion.Schemes;
using Longshot.Eval.Metrics;
using Longshot.Tensors.IO;

namespace Longshot.Eval.Benchmark;

/// <summary>Writes Table 1 as markdown (table1.md), CSV (table1.csv) and an SVG chart of quality vs length
/// (quality.svg).</summary>
public static class ResultTables
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Write(string folder, IReadOnlyList<BenchmarkRow> rows, string header)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, "table1.md"), Markdown(rows, header));
        AtomicFile.WriteAllText(Path.Combine(folder, "table1.csv"), Csv(rows));
        AtomicFile.WriteAllText(Path.Combine(folder, "quality.svg"), Chart(rows));
    }

    private static string F(double x, string format) => double.IsNaN(x) ? "n/a" : x.ToString(format, Inv);
    private static string Pct(double x) => double.IsNaN(x) ? "n/a" : (100 * x).ToString("F1", Inv) + "%";

    public static string Markdown(IReadOnlyList<BenchmarkRow> rows, string header)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"<!-- {header} -->");
        sb.AppendLine("| frames | scheme | videos | Avg-FID ↓ | B-FVD-16 ↓ | story acc. ↑ | consistency ↑ | jitter ↓ " +
            "| cut F1 ↑ | seams → 1 | time / video |");
        sb.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in Ordered(rows))
        {
            var s = r.Scores;
            bool real = r.Scheme == "real";
            bool untimed = real || r.Scheme == LongVideoBenchmark.ReconstructedRow;
            sb.AppendLine($"| {r.Frames} | {r.Scheme} | {r.Videos} | {(real ? "—" : F(s.AvgFid, "F2"))} | " +
                $"{(real ? "—" : F(s.BlockFvd, "F2"))} | " +
                          $"{Pct(s.StoryAccuracy)} | {Pct(s.Consistency)} | {F(s.Jitter, "F4")} | {F(s.CutF1, "F2")} " +
                              $"| {F(r.SeamScore, "F2")} | {(untimed ? "—" : F(r.SecondsPerVideo, "F1") + " s")} |");
        }
        sb.AppendLine();
        sb.AppendLine("Story accuracy by attribute (of the frames' asks of each kind, the share seen):");
        sb.AppendLine();
        sb.AppendLine("| frames | scheme | " + string.Join(" | ", VideoEvaluator.StoryAttributes) + " |");
        sb.AppendLine("|---:|---|" + string.Concat(VideoEvaluator.StoryAttributes.Select(_ => "---:|")));
        foreach (var r in Ordered(rows).Where(r => r.Scores.StoryByAttribute != null))
            sb.AppendLine($"| {r.Frames} | {r.Scheme} | " + string.Join(" | ", VideoEvaluator.StoryAttributes
                .Select(a => Pct(r.Scores.StoryByAttribute!.GetValueOrDefault(a, double.NaN)))) + " |");
        var leveled = Ordered(rows).Where(r => r.Scores.StoryByLevel != null).ToList();
        if (leveled.Count == 0) return sb.ToString();
        int depth = leveled.Max(r => r.Scores.StoryByLevel!.Count);
        sb.AppendLine();
        sb.AppendLine("Story accuracy by level (of the frames each level drew; level 1: the global keyframes):");
        sb.AppendLine();
        sb.AppendLine("| frames | scheme | " + string.Join(" | ", Enumerable.Range(1, depth).Select(k => $"level {k}"))
            + " |");
        sb.AppendLine("|---:|---|" + string.Concat(Enumerable.Repeat("---:|", depth)));
        foreach (var r in leveled)
            sb.AppendLine($"| {r.Frames} | {r.Scheme} | " + string.Join(" | ", Enumerable.Range(0, depth)
                .Select(k => k < r.Scores.StoryByLevel!.Count ? Pct(r.Scores.StoryByLevel[k]) : "—")) + " |");
        return sb.ToString();
    }

    public static string Csv(IReadOnlyList<BenchmarkRow> rows)
    {
        var sb = new StringBuilder("frames,scheme,videos,avg_fid,b_fvd_16,story_accuracy,consistency,jitter,cut_f1," +
                                   "seconds_per_video,scored_frames,scored_blocks,seam_score\n");
        foreach (var r in Ordered(rows))
        {
            var s = r.Scores;
            sb.AppendLine(string.Join(",", r.Frames.ToString(Inv), r.Scheme, r.Videos.ToString(Inv), F(s.AvgFid, "R"),
                F(s.BlockFvd, "R"),
                F(s.StoryAccuracy, "R"), F(s.Consistency, "R"), F(s.Jitter, "R"), F(s.CutF1, "R"),
                    F(r.SecondsPerVideo, "R"), s.Frames.ToString(Inv), s.Blocks.ToString(Inv), F(r.SeamScore, "R")));
        }
        return sb.ToString();
    }

    private static IEnumerable<BenchmarkRow> Ordered(IEnumerable<BenchmarkRow> rows) =>
        rows.OrderBy(r => r.Frames).ThenBy(r => GenerationSchemes.Order(r.Scheme) is >= 0 and var s ? s
            : r.Scheme.StartsWith("clips-", StringComparison.Ordinal) ? 100 : int.MaxValue).ThenBy(r => r.Scheme,
            StringComparer.Ordinal);

    /// <summary>Two panels (Avg-FID and B-FVD-16 against video length, log scale), one line per scheme.</summary>
    public static string Chart(IReadOnlyList<BenchmarkRow> rows)
    {
        const int panelW = 360, panelH = 240, margin = 50;
        var colours = new[] { "#1f77b4", "#d62728", "#2ca02c", "#9467bd" };
        var schemes = GenerationSchemes.All.Select((x, i) => (x.Name, colours[i % colours.Length], x.Title))
            .ToList();
        var lengths = rows.Select(r => r.Frames).Distinct().OrderBy(x => x).ToList();
        var sb = new StringBuilder();
        sb.AppendLine($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{2 * (panelW + margin) + margin}\" " +
            $"height=\"{panelH + 2 * margin + 20}\" font-family=\"sans-serif\" font-size=\"12\">");
        sb.AppendLine("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        var panels = new (string Title,
            Func<BenchmarkRow, double> Value)[] { ("Avg-FID (lower is better)", r => r.Scores.AvgFid),
            ("B-FVD-16 (lower is better)", r => r.Scores.BlockFvd) };
        for (int p = 0; p < panels.Length; p++)
        {
            double x0 = margin + p * (panelW + margin), y0 = margin;
            var values = rows.Where(r => r.Scheme != "real").Select(panels[p].Value).Where(v => !double.IsNaN(v))
                .ToList();
            double max = values.Count > 0 ? values.Max() * 1.1 : 1, min = 0;
            sb.AppendLine($"<text x=\"{x0 + panelW / 2}\" y=\"{y0 - 15}\" text-anchor=\"middle\" " +
                $"font-weight=\"bold\">{panels[p].Title}</text>");
            sb.AppendLine($"<rect x=\"{x0}\" y=\"{y0}\" width=\"{panelW}\" height=\"{panelH}\" fill=\"none\" " +
                $"stroke=\"#888\"/>");
            double X(int n) => lengths.Count == 1 ? x0 + panelW / 2.0 : x0 + 20 + (panelW - 40)
                * (Math.Log(n) - Math.Log(lengths[0])) / (Math.Log(lengths[^1]) - Math.Log(lengths[0]));
            double Y(double v) => y0 + panelH - panelH * (v - min) / Math.Max(1e-9, max - min);
            foreach (var n in lengths)
                sb.AppendLine($"<text x=\"{X(n).ToString("F1", Inv)}\" y=\"{y0 + panelH + 16}\" " +
                    $"text-anchor=\"middle\">{n}</text>");
            for (int k = 0; k <= 4; k++)
            {
                double v = min + (max - min) * k / 4;
                sb.AppendLine($"<text x=\"{x0 - 5}\" y=\"{Y(v).ToString("F1", Inv)}\" " +
                    $"text-anchor=\"end\">{v.ToString("G3", Inv)}</text>");
            }
            foreach (var (scheme, colour, _) in schemes)
            {
                var pts = rows.Where(r => r.Scheme == scheme && !double.IsNaN(panels[p].Value(r)))
                    .OrderBy(r => r.Frames)
                    .Select(r => $"{X(r.Frames).ToString("F1", Inv)},{Y(panels[p].Value(r)).ToString("F1", Inv)}")
                        .ToList();
                if (pts.Count == 0) continue;
                sb.AppendLine($"<polyline points=\"{string.Join(" ", pts)}\" fill=\"none\" stroke=\"{colour}\" " +
                    $"stroke-width=\"2\"/>");
                foreach (var pt in pts) sb.AppendLine($"<circle cx=\"{pt.Split(',')[0]}\" cy=\"{pt.Split(',')[1]}\" " +
                    $"r=\"3\" fill=\"{colour}\"/>");
            }
        }
        double ly = panelH + 2 * margin;
        for (int i = 0; i < schemes.Count; i++)
        {
            double lx = margin + i * 220;
            sb.AppendLine($"<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{lx + 20}\" y2=\"{ly}\" stroke=\"{schemes[i].Item2}\" " +
                $"stroke-width=\"2\"/>");
            sb.AppendLine($"<text x=\"{lx + 25}\" y=\"{ly + 4}\">{schemes[i].Item3}</text>");
        }
        sb.AppendLine($"<text x=\"{margin + panelW + margin / 2}\" y=\"{ly + 4}\" text-anchor=\"start\" " +
            $"fill=\"#555\">  x: frames (log scale)</text>");
        sb.AppendLine("</svg>");
        return sb.ToString();
    }
}
