using System.Diagnostics;
using System.Text.Json;
using Longshot.Diffusion.Families;
using Longshot.Diffusion.Svd;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Kernels;

namespace Longshot.Bench;

/// <summary>
/// Published models at real size with random weights. `published`: one call of Stable Video Diffusion's UNet (the
/// class defaults, 1.5 B parameters, stored fp16 and read in place) on 14 frames of 32x32 latents (a 256x256 video),
/// time and peak resident memory, each side in a process of its own; diffusers' UNet on PyTorch beside it when
/// REF_PY names the reference Python (source ../shared/reference/env.sh), with the ratios.
/// </summary>
internal static class PublishedBench
{
    private const int Frames = 14, Size = 32, Calls = 2;

    /// <summary>Where the random real-size UNet folder is kept between runs (3 GB).</summary>
    internal static string Folder => Path.Combine(
        Environment.GetEnvironmentVariable("LONGSHOT_BENCH_DIR") ?? "out/bench", "svd-unet-random-fp16");

    public static void Run()
    {
        if (!File.Exists(Path.Combine(Folder,
            "diffusion_pytorch_model.fp16.safetensors"))) RunSelf("published-prepare");
        var ours = RunSelf("published-unet");
        double oursSeconds = ours.GetProperty("seconds").EnumerateArray().Last().GetDouble(),
            oursMb = ours.GetProperty("peak_mb").GetDouble();
        Report.Emit("published", "svd-unet-14f-32x32", "longshot", oursSeconds * 1000, "ms");
        Report.Emit("published", "svd-unet-14f-32x32-peak-memory", "longshot", oursMb, "MB");
        Report.Emit("published", "svd-unet-14f-32x32-first-call", "longshot",
            ours.GetProperty("seconds").EnumerateArray().First().GetDouble() * 1000, "ms");
        var python = Environment.GetEnvironmentVariable("REF_PY");
        if (python == null)
        {
            Console.Error.WriteLine("published: REF_PY is not set (source ../shared/reference/env.sh): " +
                "PyTorch's side skipped.");
            return;
        }
        // The reference side gets OpenBLAS at its best: these machines hold it to AVX2 by default.
        var torch = RunJson(python, new[] { "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE" }, "tools/svd_unet_torch.py",
            Frames.ToString(), Size.ToString(), Calls.ToString());
        double torchSeconds = torch.GetProperty("seconds").EnumerateArray().Last().GetDouble(),
            torchMb = torch.GetProperty("peak_mb").GetDouble();
        Report.Emit("published", "svd-unet-14f-32x32", "pytorch", torchSeconds * 1000, "ms");
        Report.Emit("published", "svd-unet-14f-32x32-peak-memory", "pytorch", torchMb, "MB");
        Report.Emit("published", "svd-unet-14f-32x32 time ratio", "longshot/pytorch", oursSeconds / torchSeconds, "x");
        Report.Emit("published", "svd-unet-14f-32x32 memory ratio", "longshot/pytorch", oursMb / torchMb, "x");
    }

    /// <summary>
    /// `published-pipeline`: the whole image-to-video call (14 frames of 256x256, 8 steps, guidance 1 to 3, all frames
    /// decoded together) with real-size random components in the published layout, against diffusers' pipeline on
    /// PyTorch (tools/svd_pipeline_torch.py) when REF_PY is set; time and peak memory, each in its own process.
    /// </summary>
    public static void Pipeline()
    {
        if (!File.Exists(Path.Combine(Folder,
            "diffusion_pytorch_model.fp16.safetensors"))) RunSelf("published-prepare");
        if (!File.Exists(Path.Combine(PipelineFolder, "model_index.json"))) RunSelf("published-pipeline-prepare");
        var ours = RunSelf("published-pipeline-run");
        double oursSeconds = ours.GetProperty("seconds").GetDouble(), oursMb = ours.GetProperty("peak_mb").GetDouble();
        Report.Emit("published", "svd-pipeline-14f-256x256-8steps", "longshot", oursSeconds, "s");
        Report.Emit("published", "svd-pipeline-14f-256x256-8steps-peak-memory", "longshot", oursMb, "MB");
        var python = Environment.GetEnvironmentVariable("REF_PY");
        if (python == null)
        {
            Console.Error.WriteLine("published-pipeline: REF_PY is not set: PyTorch's side skipped.");
            return;
        }
        var torch = RunJson(python, new[] { "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE" }, "tools/svd_pipeline_torch.py",
            Frames.ToString(), "256", "8");
        double torchSeconds = torch.GetProperty("seconds").GetDouble(),
            torchMb = torch.GetProperty("peak_mb").GetDouble();
        Report.Emit("published", "svd-pipeline-14f-256x256-8steps", "pytorch", torchSeconds, "s");
        Report.Emit("published", "svd-pipeline-14f-256x256-8steps-peak-memory", "pytorch", torchMb, "MB");
        Report.Emit("published", "svd-pipeline time ratio", "longshot/pytorch", oursSeconds / torchSeconds, "x");
        Report.Emit("published", "svd-pipeline memory ratio", "longshot/pytorch", oursMb / torchMb, "x");
    }

    private static string PipelineFolder => Path.Combine(Path.GetDirectoryName(Folder)!, "svd-pipeline-random-fp16");

    /// <summary>The random real-size pipeline folder: the UNet file linked in, a ViT-H/14 image encoder and the
    /// temporal VAE written fp16, SVD's scheduler and feature extractor configs.</summary>
    public static void PreparePipeline()
    {
        var root = PipelineFolder;
        Directory.CreateDirectory(Path.Combine(root, "unet"));
        foreach (var name in new[] { "config.json", "diffusion_pytorch_model.fp16.safetensors" })
        {
            var link = Path.Combine(root, "unet", name);
            if (!File.Exists(link)) File.CreateSymbolicLink(link, Path.GetFullPath(Path.Combine(Folder, name)));
        }
        var vaeConfig = new SvdVaeConfig
        {
            BlockOutChannels = new[] { 128, 256, 512, 512 }, LayersPerBlock = 2,
            DownBlockTypes = Enumerable.Repeat("DownEncoderBlock2D", 4).ToArray(),
        };
        Directory.CreateDirectory(Path.Combine(root, "vae"));
        File.WriteAllText(Path.Combine(root, "vae", "config.json"), JsonSerializer.Serialize(vaeConfig));
        SvdVae.Random(vaeConfig, 2).Parameters.Save(Path.Combine(root, "vae",
            "diffusion_pytorch_model.fp16.safetensors"),
            DType.F16);
        var clip = new Longshot.Diffusion.Clip.ClipVisionConfig
        {
            HiddenSize = 1280, IntermediateSize = 5120, ProjectionDim = 1024, NumHiddenLayers = 32,
            NumAttentionHeads = 16, PatchSize = 14, HiddenAct = "gelu",
            Architectures = new[] { Longshot.Diffusion.Clip.ClipVisionConfig.Class },
        };
        Directory.CreateDirectory(Path.Combine(root, "image_encoder"));
        File.WriteAllText(Path.Combine(root, "image_encoder", "config.json"), JsonSerializer.Serialize(clip));
        Longshot.Diffusion.Clip.ClipVisionModel.Random(clip, 3).Parameters.Save(
            Path.Combine(root, "image_encoder", "model.fp16.safetensors"), DType.F16);
        Directory.CreateDirectory(Path.Combine(root, "scheduler"));
        File.WriteAllText(Path.Combine(root, "scheduler", "scheduler_config.json"), """
            {"_class_name": "EulerDiscreteScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
             "beta_start": 0.00085, "interpolation_type": "linear", "num_train_timesteps": 1000,
             "prediction_type": "v_prediction", "sigma_max": 700.0, "sigma_min": 0.002, "steps_offset": 1,
             "timestep_spacing": "leading", "timestep_type": "continuous", "use_karras_sigmas": true}
            """);
        Directory.CreateDirectory(Path.Combine(root, "feature_extractor"));
        File.WriteAllText(Path.Combine(root, "feature_extractor", "preprocessor_config.json"), "{}");
        File.WriteAllText(Path.Combine(root, "model_index.json"), """
            {"_class_name": "StableVideoDiffusionPipeline",
             "feature_extractor": ["transformers", "CLIPImageProcessor"],
             "image_encoder": ["transformers", "CLIPVisionModelWithProjection"],
             "scheduler": ["diffusers", "EulerDiscreteScheduler"],
             "unet": ["diffusers", "UNetSpatioTemporalConditionModel"],
             "vae": ["diffusers", "AutoencoderKLTemporalDecoder"]}
            """);
        Console.Error.WriteLine($"published-pipeline: wrote {root}");
    }

    /// <summary>Our side of `published-pipeline`: one call, printed as one JSON line.</summary>
    public static void PipelineRun()
    {
        var pipe = SvdPipeline.Load(PipelineFolder);
        var image = Tensor.Rand(new Rng(5), -1f, 1f, 3, 256, 256);
        var settings = new SvdSettings { Frames = Frames, Width = 256, Height = 256, Steps = 8 };
        var sw = Stopwatch.StartNew();
        pipe.Generate(image, settings);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            seconds = sw.Elapsed.TotalSeconds, peak_mb = PeakResidentMb(), file_mb = Status("RssFile"),
            gemm = Gemm.Backend.ToString(), threads = Threads.Count,
        }));
    }

    /// <summary>Writes the random real-size UNet in the published layout, its weights in fp16 (run in a process of
    /// its own: it holds the float32 weights while writing).</summary>
    public static void Prepare()
    {
        Directory.CreateDirectory(Folder);
        var config = new SvdUnetConfig { NumFrames = 25 };
        var unet = SvdUnet.Random(config, 1);
        File.WriteAllText(Path.Combine(Folder, "config.json"), JsonSerializer.Serialize(config));
        unet.Parameters.Save(Path.Combine(Folder, "diffusion_pytorch_model.fp16.safetensors"), DType.F16);
        Console.Error.WriteLine($"published: wrote {unet.Parameters.ElementCount:N0} random parameters to {Folder}");
    }

    /// <summary>Our side: load the folder (mapped), run the calls, print one JSON line.</summary>
    public static void Unet()
    {
        var unet = ModelFamilies.Load<SvdUnet>(Folder);
        double loadedAnonMb = Status("RssAnon"), loadedHeapMb = GC.GetTotalMemory(true) / 1e6;
        var rng = new Rng(0);
        var sample = Tensor.Randn(rng, 1, Frames, 8, Size, Size);
        var context = Tensor.Randn(rng, 1, 1, 1024);
        var ids = Tensor.FromArray(new[] { 6f, 127f, 0.02f }, 1, 3);
        var seconds = new List<double>();
        var allocatedGb = new List<double>();
        using (Tensor.NoGrad())
            for (int i = 0; i < Calls; i++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                var sw = Stopwatch.StartNew();
                unet.Forward(sample, 0.25f * 3f, context, ids);
                seconds.Add(sw.Elapsed.TotalSeconds);
                allocatedGb.Add((GC.GetTotalAllocatedBytes(precise: true) - before) / 1e9);
            }
        var gc = GC.GetGCMemoryInfo();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            seconds, allocated_gb = allocatedGb, peak_mb = PeakResidentMb(), file_mb = Status("RssFile"),
            anon_mb = Status("RssAnon"), loaded_anon_mb = loadedAnonMb, loaded_heap_mb = loadedHeapMb,
            gc_heap_peak_mb = gc.HeapSizeBytes / 1e6, gc_committed_mb = gc.TotalCommittedBytes / 1e6,
            gc_total_mb = GC.GetTotalMemory(false) / 1e6, widened_cache_mb = MappedWeights.HeldBytes / 1e6,
            gc_pause_s = GC.GetTotalPauseDuration().TotalSeconds, gen2_collections = GC.CollectionCount(2),
            gen1_collections = GC.CollectionCount(1), gen0_collections = GC.CollectionCount(0),
            gemm = Gemm.Backend.ToString(), threads = Threads.Count,
            parameters = unet.Parameters.ElementCount,
        }));
    }

    /// <summary>VmHWM: the most resident memory this process has had, mapped weight pages included.</summary>
    internal static double PeakResidentMb() => Status("VmHWM");

    /// <summary>A memory line of /proc/self/status in MB (0 where there is none).</summary>
    internal static double Status(string key)
    {
        if (!File.Exists("/proc/self/status")) return 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
                return double.Parse(line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
        return 0;
    }

    internal static JsonElement RunSelf(string benchCase)
    {
        var self = Environment.ProcessPath!;
        var args = new List<string>();
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") args.Add(typeof(PublishedBench).Assembly.Location);
        args.Add(benchCase);
        return RunJson(self, Array.Empty<string>(), args.ToArray());
    }

    internal static JsonElement RunJson(string program, string[] unset, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var name in unset) psi.Environment.Remove(name);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(" ", args)} failed (exit " +
            $"{p.ExitCode}).");
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "{}";
        return JsonDocument.Parse(last).RootElement.Clone();
    }
}
