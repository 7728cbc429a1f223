using System.Diagnostics;
using System.Text.Json;
using Longshot.Diffusion.Families;
using Longshot.Diffusion.Svd;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Kernels;
using Longshot.Tensors.Nn;

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
    private static string Folder => Path.Combine(Environment.GetEnvironmentVariable("LONGSHOT_BENCH_DIR") ?? "out/bench",
        "svd-unet-random-fp16");

    public static void Run()
    {
        if (!File.Exists(Path.Combine(Folder, "diffusion_pytorch_model.fp16.safetensors"))) RunSelf("published-prepare");
        var ours = RunSelf("published-unet");
        double oursSeconds = ours.GetProperty("seconds").EnumerateArray().Last().GetDouble(), oursMb = ours.GetProperty("peak_mb").GetDouble();
        Report.Emit("published", "svd-unet-14f-32x32", "longshot", oursSeconds * 1000, "ms");
        Report.Emit("published", "svd-unet-14f-32x32-peak-memory", "longshot", oursMb, "MB");
        Report.Emit("published", "svd-unet-14f-32x32-first-call", "longshot",
            ours.GetProperty("seconds").EnumerateArray().First().GetDouble() * 1000, "ms");
        var python = Environment.GetEnvironmentVariable("REF_PY");
        if (python == null)
        {
            Console.Error.WriteLine("published: REF_PY is not set (source ../shared/reference/env.sh): PyTorch's side " +
                "skipped.");
            return;
        }
        // The reference side gets OpenBLAS at its best: these machines hold it to AVX2 by default.
        var torch = RunJson(python, new[] { "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE" }, "tools/svd_unet_torch.py",
            Frames.ToString(), Size.ToString(), Calls.ToString());
        double torchSeconds = torch.GetProperty("seconds").EnumerateArray().Last().GetDouble(), torchMb = torch.GetProperty("peak_mb").GetDouble();
        Report.Emit("published", "svd-unet-14f-32x32", "pytorch", torchSeconds * 1000, "ms");
        Report.Emit("published", "svd-unet-14f-32x32-peak-memory", "pytorch", torchMb, "MB");
        Report.Emit("published", "svd-unet-14f-32x32 time ratio", "longshot/pytorch", oursSeconds / torchSeconds, "x");
        Report.Emit("published", "svd-unet-14f-32x32 memory ratio", "longshot/pytorch", oursMb / torchMb, "x");
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
        var rng = new Rng(0);
        var sample = Tensor.Randn(rng, 1, Frames, 8, Size, Size);
        var context = Tensor.Randn(rng, 1, 1, 1024);
        var ids = Tensor.FromArray(new[] { 6f, 127f, 0.02f }, 1, 3);
        var seconds = new List<double>();
        using (Tensor.NoGrad())
            for (int i = 0; i < Calls; i++)
            {
                var sw = Stopwatch.StartNew();
                unet.Forward(sample, 0.25f * 3f, context, ids);
                seconds.Add(sw.Elapsed.TotalSeconds);
            }
        var gc = GC.GetGCMemoryInfo();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            seconds, peak_mb = PeakResidentMb(), file_mb = Status("RssFile"), anon_mb = Status("RssAnon"),
            gc_heap_peak_mb = gc.HeapSizeBytes / 1e6, gc_committed_mb = gc.TotalCommittedBytes / 1e6,
            gc_total_mb = GC.GetTotalMemory(false) / 1e6, widened_cache_mb = MappedWeights.HeldBytes / 1e6, gemm = Gemm.Backend.ToString(), threads = Threads.Count,
            parameters = unet.Parameters.ElementCount,
        }));
    }

    /// <summary>VmHWM: the most resident memory this process has had, mapped weight pages included.</summary>
    private static double PeakResidentMb() => Status("VmHWM");

    /// <summary>A memory line of /proc/self/status in MB (0 where there is none).</summary>
    private static double Status(string key)
    {
        if (!File.Exists("/proc/self/status")) return 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
        return 0;
    }

    private static JsonElement RunSelf(string benchCase)
    {
        var self = Environment.ProcessPath!;
        var args = new List<string>();
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") args.Add(typeof(PublishedBench).Assembly.Location);
        args.Add(benchCase);
        return RunJson(self, Array.Empty<string>(), args.ToArray());
    }

    private static JsonElement RunJson(string program, string[] unset, params string[] args)
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
