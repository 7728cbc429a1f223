using System.Diagnostics;
using System.Text.Json;
using Longshot.Diffusion.Svd;
using Longshot.Diffusion.SvdPostTuning;
using Longshot.Distributed;
using Longshot.Tensors;
using Longshot.Tensors.Kernels;
using Longshot.Tensors.Nn;
using Longshot.Video.Store;
using Longshot.Video.Toonworld;

namespace Longshot.Bench;

/// <summary>
/// `exvideo-train` and `exvideo-train-bf16`: ExVideo's post-tuning (`train extend --model`) at real size: the random
/// fp16 SVD folder of `published-pipeline` (1.52 B parameters, read in place), the extension's temporal blocks
/// training in float32 (AdamW, gradient checkpointing; no EMA, which would not fit beside AdamW's state in 24 GB),
/// clips of 8 frames of 128x128 from a generated store (16 frames of 256x256 ran out of this machine's 24 GB in the
/// second step). Three steps in a fresh process (float32 activations, or bfloat16 mixed precision); reported: the
/// trainable parameters, the second step's time (the first widens the mapped weights), the third's checkpoint write,
/// and the peak resident memory with the mapped file's pages apart.
/// </summary>
internal static class ExVideoTrainBench
{
    private const int Frames = 8, Side = 128, Steps = 3;

    private static string Root => Environment.GetEnvironmentVariable("LONGSHOT_BENCH_DIR") ?? "out/bench";
    private static string Pipeline => Path.Combine(Root, "svd-pipeline-random-fp16");
    private static string Data => Path.Combine(Root, $"exvideo-train-data-{Side}");

    /// <summary>One case: float32 activations (fp32) or bfloat16 mixed precision (bf16).</summary>
    public static void Run(string precision)
    {
        if (!File.Exists(Path.Combine(Pipeline, "model_index.json")))
            throw new LongshotException($"{Pipeline} is missing: run `bench -- published-prepare` and " +
                "`bench -- published-pipeline-prepare` first.");
        if (!Directory.Exists(Data))
            DatasetBuilder.GenerateToonworld(Data, new ToonworldSettings
                { Frames = 40, Width = Side, Height = Side, Seed = 7 }, 1);
        {
            var row = RankJobs.Run(1, "exvideo-train-rank", precision).Single();
            string c = $"exvideo-train-{Frames}f-{Side}x{Side}-{precision}";
            Report.Emit("published", c + "-trainable-parameters", "longshot",
                row.GetProperty("trainable").GetDouble() / 1e6, "M");
            Report.Emit("published", c + "-step", "longshot", row.GetProperty("step_s").GetDouble(), "s");
            Report.Emit("published", c + "-checkpoint-write", "longshot",
                row.GetProperty("checkpoint_s").GetDouble(), "s");
            Report.Emit("published", c + "-peak-memory", "longshot", row.GetProperty("peak_mb").GetDouble(), "MB");
            Report.Emit("published", c + "-mapped-file", "longshot", row.GetProperty("file_mb").GetDouble(), "MB");
        }
    }

    /// <summary>`exvideo-train-rank fp32|bf16`: three steps in a fresh run folder, one JSON line.</summary>
    public static void Rank(string[] args)
    {
        using var comm = Communicators.FromEnvironment();
        Threads.Count = Math.Max(1, Environment.ProcessorCount / comm.LocalSize);
        var outDir = Path.Combine(Root, $"exvideo-train-run-{args[0]}");
        if (Directory.Exists(outDir)) Directory.Delete(outDir, true);
        var o = new SvdExtendOptions
        {
            Model = Pipeline, Variant = "fp16", Data = Data, Out = outDir, Frames = Frames, Steps = Steps,
            CheckpointEvery = Steps, Bf16 = args[0] == "bf16",
            // No EMA: its float32 copy of the 0.8 B trained weights (3.2 GB) does not fit beside AdamW's state in
            // this machine's 24 GB.
            EmaDecay = 0,
        };
        var times = new List<double>();
        var sw = Stopwatch.StartNew();
        SvdExtendTrainer.Train(o, new StepTimes(times, sw), ranks: comm);
        // The trainable count from the layout alone (the names DiffSynth's TemporalAttentionBlocks hold).
        var config = SvdUnetConfig.Load(Path.Combine(Pipeline, "unet", "config.json"))
            with { ExtensionFrames = Frames };
        var layout = new ParameterStore();
        _ = new SvdUnet(config, VarBuilder.ShapesOnly(layout));
        var blocks = DiffSynthSvdNames.BlockNames(config);
        long trainable = layout.Named.Where(p => DiffSynthSvdNames.TemporalBlockName(p.Name, blocks) != null)
            .Sum(p => (long)p.Value.Numel);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            rank = comm.Rank, trainable, step_s = times[1] - times[0], checkpoint_s = (times[2] - times[1]) -
                (times[1] - times[0]),
            peak_mb = PublishedBench.PeakResidentMb(), file_mb = PublishedBench.Status("RssFile"),
        }));
    }

    /// <summary>Each step's end, in seconds since the start (reported on the training thread).</summary>
    private sealed class StepTimes(List<double> times, Stopwatch sw) : IProgress<SvdExtendProgress>
    {
        public void Report(SvdExtendProgress value)
        {
            times.Add(sw.Elapsed.TotalSeconds);
            Console.Error.WriteLine($"exvideo-train: step {value.Step} at {sw.Elapsed.TotalSeconds:F0} s, peak " +
                $"{PublishedBench.PeakResidentMb():F0} MB");
        }
    }
}
