using System.Globalization;
using Longshot.Diffusion;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Training;
using Longshot.Eval.Benchmark;
using Longshot.Eval.Features;

namespace Longshot.Cli;

/// <summary>`longshot train extractor` and `longshot eval`: the evaluation feature extractor and Table 1.</summary>
internal static class EvalCommands
{
    public const string Usage = """
          train extractor --data DIR --out DIR [--steps 800] [--seed N]
                                       Trains the evaluation feature extractor (frame and 16-frame clip encoders)
                                       on the store's real frames and annotations; prints held-out accuracy.
          eval --data DIR [--global DIR] [--local DIR] [--out DIR] [--quick] [--lengths 16,256,1024]
               [--budget 1024] [--steps 8] [--guidance 2] [--sampler dpm++] [--extractor DIR|FILE] [--batch 1]
                                       Table 1: generates videos of each length with DoD and AR (the demo's
                                       sampler) from test-split stories and writes table1.md, table1.csv and quality.svg (Avg-FID, B-FVD-16,
                                       story accuracy, consistency, jitter, cut F1, time). Rerun to resume.
                                       --quick: lengths 16,64, 64 frames per row, 6 steps.
          eval mtd --model DIR --data DIR [--levels 1|2,3] [--depth 3] [--length 16] [--clips 64] [--fill N]
                                       Held-out noise-prediction loss of an MTD at each level (validation split);
                                       --fill N: also N real-keyframe clips of the test split filled by the (local)
                                       model and scored (Avg-FID, B-FVD, story accuracy): the MI/SI ablation.
        """;

    public static int TrainExtractor(string[] args, CancellationToken ct)
    {
        var a = new Args("train extractor", args, new HashSet<string> { "quiet" });
        var o = new ExtractorTrainOptions
        {
            Data = a.Require("data"), Out = a.Require("out"), Steps = a.Int("steps", 800, 1), Seed = (ulong)a.Int("seed", 1, 0),
        };
        bool quiet = a.Flag("quiet");
        a.CheckAllUsed();
        var progress = new SyncProgress<ExtractorTrainProgress>(p =>
        {
            if (!quiet && (p.Step % 25 == 0 || p.Step == 1 || p.Step == p.Steps))
                Console.WriteLine($"step {p.Step,5}/{p.Steps}  frame loss {p.FrameLoss:F4}  clip loss {p.ClipLoss:F4}  eta {p.Eta:hh\\:mm\\:ss}");
        });
        var (fx, v) = ExtractorTrainer.Train(o, progress, ct);
        Console.WriteLine($"held-out accuracy: place {v.Place:P1}, time {v.Time:P1}, framing {v.Framing:P1}, shirts {v.Shirts:P1}, accessories {v.Accessories:P1}, " +
                          $"clip actions {v.Actions:P1}, cuts {v.Cuts:P1}  ({v.Frames} frames, {v.Clips} clips)");
        Console.WriteLine($"cut threshold {fx.Config.CutThreshold:F4}; saved {Path.GetFullPath(o.Out)} (sha256 {fx.Sha256})");
        return 0;
    }

    public static int Eval(string[] args, CancellationToken ct)
    {
        if (args.Length > 0 && args[0] == "vae") return TrainCommands.Eval(args);
        if (args.Length > 0 && args[0] == "mtd") return EvalMtd(args[1..], ct);
        var a = new Args("eval", args, new HashSet<string> { "quick", "quiet" });
        bool quick = a.Flag("quick"), quiet = a.Flag("quiet");
        string? extractor = a.Get("extractor");
        var lengths = a.IntList("lengths", 2) ?? (quick ? new[] { 16, 64 } : new[] { 16, 256, 1024 });
        var o = new BenchmarkOptions
        {
            Data = a.Require("data"), Global = a.Get("global") ?? ShippedModels.Global(), Local = a.Get("local") ?? ShippedModels.Local(),
            Vae = a.Get("vae") ?? ShippedModels.Vae(), Extractor = extractor ?? ShippedExtractor.Folder(),
            ExtractorSha256 = extractor == null ? ShippedExtractor.Sha256 : null,
            Out = a.Get("out") ?? (quick ? "out/eval-quick" : "out/eval"), Lengths = lengths,
            FrameBudget = a.Int("budget", quick ? 64 : 1024, 16), Batch = a.Int("batch", DodPipeline.DefaultBatchSize, 1), Seed = (ulong)a.Int("seed", 1, 0),
            Sampler = new SamplerOptions(a.Int("steps", quick ? 6 : ShippedModels.Sampler.Steps, 1, 1000), (float)a.Double("guidance", ShippedModels.Sampler.GuidanceScale, 0),
                a.Get("sampler") ?? ShippedModels.Sampler.Scheduler),
        };
        a.CheckAllUsed();
        var progress = new SyncProgress<string>(m => { if (!quiet) Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {m}"); });
        LongVideoBenchmark.Run(o, progress, ct);
        Console.WriteLine(File.ReadAllText(Path.Combine(o.Out, "table1.md")));
        Console.WriteLine($"wrote {Path.GetFullPath(Path.Combine(o.Out, "table1.md"))}, table1.csv and quality.svg");
        return 0;
    }

    private static int EvalMtd(string[] args, CancellationToken ct)
    {
        var a = new Args("eval mtd", args, new HashSet<string> { "json" });
        string model = a.Require("model"), data = a.Require("data"), vae = a.Get("vae") ?? ShippedModels.Vae();
        int depth = a.Int("depth", 3, 1, 6), length = a.Int("length", 16, 3), clips = a.Int("clips", 64, 1), fill = a.Int("fill", 0, 0);
        var levels = a.IntList("levels", 1);
        string? extractor = a.Get("extractor");
        bool json = a.Flag("json");
        a.CheckAllUsed();
        var parts = MtdPipelineParts.Load(model);
        levels ??= Enumerable.Range(1, depth).ToArray();
        var result = new Dictionary<string, object>();
        foreach (int level in levels)
        {
            var role = level == 1 ? "global" : "local";
            double loss = MtdTrainer.ValidationLoss(parts, data, vae, role, level, depth, length, clips, ct: ct);
            result[$"val_loss_level{level}"] = loss;
            if (!json) Console.WriteLine($"level {level} ({role}, stride {LongVideoSampling.Stride(level, depth, length)}): validation loss {loss:F5} over {clips} clips");
        }
        if (fill > 0)
        {
            var scores = InterpolationBenchmark.Run(new InterpolationOptions
            {
                Data = data, Local = model, Vae = vae, Extractor = extractor ?? ShippedExtractor.Folder(),
                ExtractorSha256 = extractor == null ? ShippedExtractor.Sha256 : null, Clips = fill, Length = length,
                Sampler = ShippedModels.Sampler,
            }, null, ct);
            result["fill_avg_fid"] = scores.AvgFid; result["fill_b_fvd"] = scores.BlockFvd; result["fill_story_accuracy"] = scores.StoryAccuracy;
            if (!json) Console.WriteLine($"fill between real keyframes ({fill} clips of {length}): Avg-FID {scores.AvgFid:F2}  B-FVD-{length} {scores.BlockFvd:F2}  story accuracy {scores.StoryAccuracy:P1}");
        }
        if (json) Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(result));
        return 0;
    }
}
