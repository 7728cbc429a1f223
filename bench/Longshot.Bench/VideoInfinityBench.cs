using System.Diagnostics;
using System.Text.Json;
using Longshot.Diffusion.Clip;
using Longshot.Diffusion.Clips;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.TextToVideo;
using Longshot.Diffusion.Vae;
using Longshot.Distributed;
using Longshot.Tensors.IO;
using Longshot.Tensors.Kernels;
using Longshot.Tensors.Nn;

namespace Longshot.Bench;

/// <summary>
/// `video-infinity`: Video-Infinity on the real-size text-to-video UNet (ModelScope's config, 1.4 B parameters,
/// random weights stored fp16 and read in place; the folder of `unet3d-16f-32x32` behind a published-layout pipeline
/// folder whose text encoder and VAE are small random ones, since neither is timed): 32 frames of 32x32 latents
/// (256x256) in 4 clips of 8, dual scope (window 8, 16 global frames), 2 DDIM steps without guidance, over 1, 2 and 4
/// MPI ranks on this machine (each rank its share of the cores). Per rank count: the second step's time, each rank's
/// peak resident memory split into mapped-file pages (the weights, shared between ranks) and private memory, and the
/// data one rank's clips receive from other clips per step. Projected from those: the exchange per step and per run
/// at the authors' settings (320x512, 24-frame clips, 2,300 frames on 8 ranks, 30 steps with guidance).
/// </summary>
internal static class VideoInfinityBench
{
    private const int Frames = 32, ClipFrames = 8, Side = 256, Steps = 2;

    private static string Folder => Path.Combine(
        Environment.GetEnvironmentVariable("LONGSHOT_BENCH_DIR") ?? "out/bench", "t2v-random");

    private static string UnetFolder => Path.Combine(
        Environment.GetEnvironmentVariable("LONGSHOT_BENCH_DIR") ?? "out/bench", "unet3d-random-fp16");

    public static void Run()
    {
        if (!File.Exists(Path.Combine(UnetFolder, "diffusion_pytorch_model.fp16.safetensors")))
            PublishedBench.RunSelf("unet3d-prepare");
        if (!File.Exists(Path.Combine(Folder, "model_index.json"))) PublishedBench.RunSelf("video-infinity-prepare");
        double? exchangedPerStep = null, oneRankStep = null;
        foreach (int ranks in new[] { 1, 2, 4 })
        {
            var rows = RankJobs.Run(ranks, "video-infinity-rank");
            string name = $"vi-{Frames}f-256x256-{ranks}r";
            // Rank 0 times the steps (every rank is at the same step: each waits for the others at every layer).
            double step = rows.Single(r => r.GetProperty("rank").GetInt32() == 0).GetProperty("step_seconds")
                .EnumerateArray().Last().GetDouble();
            Report.Emit("published", name + "-step", "longshot", step, "s");
            Report.Emit("published", name + "-peak-memory-per-rank", "longshot",
                rows.Max(r => r.GetProperty("peak_mb").GetDouble()), "MB");
            Report.Emit("published", name + "-mapped-file-per-rank", "longshot",
                rows.Max(r => r.GetProperty("file_mb").GetDouble()), "MB");
            Report.Emit("published", name + "-private-per-rank", "longshot",
                rows.Max(r => r.GetProperty("anon_mb").GetDouble()), "MB");
            double perStep = rows.Max(r => r.GetProperty("bytes").GetDouble()) / Steps;
            Report.Emit("published", name + "-received-per-rank-per-step", "longshot", perStep / 1e6, "MB");
            if (ranks == 1) oneRankStep = step;
            if (ranks == 4) exchangedPerStep = rows.Select(r => r.GetProperty("bytes").GetDouble()).Max() / Steps;
        }
        Project(exchangedPerStep!.Value, oneRankStep!.Value);
    }

    /// <summary>
    /// The authors' run from what one interior rank received per step here: the exchange grows with the pixels of a
    /// frame (edges and global frames are whole frames at each layer), not with the clip's length; their 2,300 frames
    /// on 8 ranks, 30 steps, guidance (two model calls a step). The compute per rank scales with its frames and their
    /// pixels: on ranks like this machine (2 cores each), from the one-rank step time here.
    /// </summary>
    private static void Project(double bytesPerStep, double oneRankStep)
    {
        double pixels = 320.0 * 512 / (Side * Side);
        double perCall = bytesPerStep * pixels;
        Report.Emit("published", "vi-authors-2300f-8r-received-per-rank-per-call", "projected", perCall / 1e6, "MB");
        Report.Emit("published", "vi-authors-2300f-8r-received-per-rank-per-run", "projected",
            perCall * 30 * 2 / 1e9, "GB");
        double frameCall = oneRankStep / Frames * pixels;
        Report.Emit("published", "vi-authors-2300f-8r-hours-per-rank-2-cores", "projected",
            frameCall * 2300 / 8 * 30 * 2 / 3600, "h");
    }

    /// <summary>`video-infinity-rank`, under mpirun: this rank's clips, then one JSON line.</summary>
    public static void Rank()
    {
        using var comm = Communicators.FromEnvironment();
        Threads.Count = Math.Max(1, Environment.ProcessorCount / comm.LocalSize);
        var pipe = TextToVideoPipeline.Load(Folder, "fp16");
        var settings = new TextToVideoSettings
        {
            Prompt = "a corgi runs along a beach at sunset, waves, 4k", Frames = Frames, Height = Side, Width = Side,
            Steps = Steps, GuidanceScale = 1, Seed = 1,
        };
        var clips = new ClipSettings(ClipFrames, ClipAttention.Dual, Window: 8, GlobalFrames: 16);
        var clock = Stopwatch.StartNew();
        var marks = new List<double>();
        var progress = new SyncProgress(p => marks.Add(clock.Elapsed.TotalSeconds));
        var (_, bytes) = TextToVideoClips.Denoise(pipe, settings, clips, comm, progress: progress);
        var steps = marks.Select((t, i) => t - (i == 0 ? 0 : marks[i - 1])).ToList();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            rank = comm.Rank, ranks = comm.Size, step_seconds = steps, bytes, peak_mb = PublishedBench.PeakResidentMb(),
            file_mb = PublishedBench.Status("RssFile"), anon_mb = PublishedBench.Status("RssAnon"),
            threads = Threads.Count,
        }));
    }

    /// <summary>Reports on the thread that made them (the first clip's thread of rank 0).</summary>
    private sealed class SyncProgress(Action<StepProgress> report) : IProgress<StepProgress>
    {
        public void Report(StepProgress value) => report(value);
    }

    /// <summary>The pipeline folder: the real-size UNet linked in, a small random text encoder (ViT-H's width, one
    /// layer) and image VAE (four levels, as ModelScope's), the tiny test folder's tokenizer, DDIM.</summary>
    public static void Prepare()
    {
        var root = Folder;
        var tiny = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "tests",
            "Longshot.Diffusion.Tests", "Golden", "t2v", "pipeline_tiny");
        Directory.CreateDirectory(Path.Combine(root, "unet"));
        foreach (var name in new[] { "config.json", "diffusion_pytorch_model.fp16.safetensors" })
        {
            var link = Path.Combine(root, "unet", name);
            if (!File.Exists(link)) File.CreateSymbolicLink(link, Path.GetFullPath(Path.Combine(UnetFolder, name)));
        }
        foreach (var part in new[] { "tokenizer", "scheduler" })
        {
            Directory.CreateDirectory(Path.Combine(root, part));
            foreach (var f in Directory.GetFiles(Path.Combine(tiny, part)))
                File.Copy(f, Path.Combine(root, part, Path.GetFileName(f)), true);
        }
        var text = new ClipTextConfig
        {
            HiddenSize = 1024, IntermediateSize = 4096, NumAttentionHeads = 16, NumHiddenLayers = 1,
            HiddenAct = "gelu", VocabSize = 814, Architectures = new[] { ClipTextConfig.Class },
        };
        Directory.CreateDirectory(Path.Combine(root, "text_encoder"));
        File.WriteAllText(Path.Combine(root, "text_encoder", "config.json"), JsonSerializer.Serialize(text));
        new ClipTextModel(text, VarBuilder.Fresh(new ParameterStore(), 4)).Parameters.Save(
            Path.Combine(root, "text_encoder", "model.fp16.safetensors"), DType.F16);
        var vae = new AutoencoderKLConfig
        {
            BlockOutChannels = new[] { 32, 32, 64, 64 },
            DownBlockTypes = Enumerable.Repeat("DownEncoderBlock2D", 4).ToArray(),
            UpBlockTypes = Enumerable.Repeat("UpDecoderBlock2D", 4).ToArray(), SampleSize = Side,
        };
        Directory.CreateDirectory(Path.Combine(root, "vae"));
        File.WriteAllText(Path.Combine(root, "vae", "config.json"), JsonSerializer.Serialize(vae));
        AutoencoderKL.Create(vae, 5).Parameters.Save(Path.Combine(root, "vae",
            "diffusion_pytorch_model.fp16.safetensors"), DType.F16);
        File.Copy(Path.Combine(tiny, "model_index.json"), Path.Combine(root, "model_index.json"), true);
        Console.Error.WriteLine($"video-infinity: wrote {root}");
    }
}
