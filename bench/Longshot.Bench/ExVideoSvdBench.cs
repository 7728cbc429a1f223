using System.Diagnostics;
using System.Text.Json;
using Longshot.Diffusion.Clips;
using Longshot.Diffusion.Svd;
using Longshot.Distributed;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Kernels;

namespace Longshot.Bench;

/// <summary>
/// `exvideo-128f`: 128 frames of 256x256 from Stable Video Diffusion at real size (the class defaults, 1.52 B
/// parameters, random weights stored fp16 and read in place: the folder of `published-pipeline`), one Euler step
/// without guidance, denoising only: the base UNet over all 128 frames in one pass, the same with ExVideo's 128-frame
/// extension (as post-tuning starts it: reflected tables, identity convolutions, stored fp16 in DiffSynth's names),
/// and the extended model as clips over 2 and 4 MPI ranks (clips of 64 and 32 frames, dual scope). Per case: the step's
/// time, each rank's peak resident memory (the weight file's pages, shared, apart) and the data a rank receives per
/// step.
/// </summary>
internal static class ExVideoSvdBench
{
    private const int Frames = 128, Side = 256;

    private static string Root => Environment.GetEnvironmentVariable("LONGSHOT_BENCH_DIR") ?? "out/bench";
    private static string Pipeline => Path.Combine(Root, "svd-pipeline-random-fp16");
    private static string Extension => Path.Combine(Root, "exvideo-128f-initial", "model.fp16.safetensors");

    public static void Run()
    {
        if (!File.Exists(Path.Combine(Pipeline, "model_index.json")))
            throw new LongshotException($"{Pipeline} is missing: run `bench -- published-prepare` and " +
                "`bench -- published-pipeline-prepare` first.");
        if (!File.Exists(Extension)) Prepare();
        foreach (var (name, ranks, args) in new[]
        {
            ("extended", 1, new[] { "extended" }), ("extended-clips-2r", 2, new[] { "extended", "64" }),
            ("extended-clips-4r", 4, new[] { "extended", "32" }), ("base", 1, new[] { "base" }),
        })
        {
            var rows = RankJobs.Run(ranks, new[] { "exvideo-128f-rank" }.Concat(args).ToArray());
            var lead = rows.Single(r => r.GetProperty("rank").GetInt32() == 0);
            string c = $"exvideo-128f-256x256-{name}";
            Report.Emit("published", c + "-step", "longshot", lead.GetProperty("seconds").GetDouble(), "s");
            Report.Emit("published", c + "-peak-memory-per-rank", "longshot",
                rows.Max(r => r.GetProperty("peak_mb").GetDouble()), "MB");
            Report.Emit("published", c + "-mapped-file-per-rank", "longshot",
                rows.Max(r => r.GetProperty("file_mb").GetDouble()), "MB");
            Report.Emit("published", c + "-received-per-rank-per-step", "longshot",
                rows.Max(r => r.GetProperty("bytes").GetDouble()) / 1e6, "MB");
        }
    }

    /// <summary>The extension as post-tuning starts it, for the real-size UNet, in DiffSynth's names, fp16.</summary>
    private static void Prepare()
    {
        var config = SvdUnetConfig.Load(Path.Combine(Pipeline, "unet", "config.json"));
        Directory.CreateDirectory(Path.GetDirectoryName(Extension)!);
        SafeTensors.Save(Extension, ExVideoSvdExtension.Initial(config, Frames), DType.F16);
        Console.Error.WriteLine($"exvideo-128f: wrote {Extension}");
    }

    /// <summary>`exvideo-128f-rank base|extended [CLIP_FRAMES]`, under mpirun: one step, one JSON line per
    /// rank.</summary>
    public static void Rank(string[] args)
    {
        using var comm = Communicators.FromEnvironment();
        Threads.Count = Math.Max(1, Environment.ProcessorCount / comm.LocalSize);
        var pipe = SvdPipeline.Load(Pipeline, "fp16", args[0] == "extended" ? Extension : null);
        var image = Tensor.Rand(new Rng(5), -1f, 1f, 3, Side, Side);
        var settings = new SvdSettings
        {
            Frames = Frames, Width = Side, Height = Side, Steps = 1, MinGuidance = 1, MaxGuidance = 1, Seed = 1,
        };
        long bytes = 0;
        var sw = Stopwatch.StartNew();
        if (args.Length > 1)
            bytes = SvdClips.Denoise(pipe, image, settings, new ClipSettings(int.Parse(args[1])), comm).BytesExchanged;
        else pipe.Denoise(image, settings);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            rank = comm.Rank, ranks = comm.Size, seconds = sw.Elapsed.TotalSeconds, bytes,
            peak_mb = PublishedBench.PeakResidentMb(), file_mb = PublishedBench.Status("RssFile"),
            anon_mb = PublishedBench.Status("RssAnon"), threads = Threads.Count,
        }));
    }
}
