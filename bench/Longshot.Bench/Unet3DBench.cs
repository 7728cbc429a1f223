using System.Diagnostics;
using System.Text.Json;
using Longshot.Diffusion.Families;
using Longshot.Diffusion.Unet3D;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Kernels;

namespace Longshot.Bench;

/// <summary>
/// `unet3d-16f-32x32`: one call of the real-size text-to-video UNet (ModelScope's config, 1.4 B parameters, random
/// weights stored fp16 in the published layout, read in place) on 16 frames of 32x32 latents (a 256x256 video),
/// batch 1, 77 text tokens, the second call timed, each side in a process of its own; PyTorch 1.13 with diffusers
/// v0.25 on float32 weights (tools/unet3d_torch.py, when REF_PY is set) with OpenBLAS at its AVX-512 kernels. Time
/// and peak resident memory, and their ratios.
/// </summary>
internal static class Unet3DBench
{
    private const int Frames = 16, Size = 32, Calls = 2;

    /// <summary>Where the random real-size folder is kept between runs (2.8 GB).</summary>
    private static string Folder => Path.Combine(
        Environment.GetEnvironmentVariable("LONGSHOT_BENCH_DIR") ?? "out/bench", "unet3d-random-fp16");

    public static void Run()
    {
        if (!File.Exists(Path.Combine(Folder, "diffusion_pytorch_model.fp16.safetensors")))
            PublishedBench.RunSelf("unet3d-prepare");
        var ours = PublishedBench.RunSelf("unet3d-ours");
        double oursSeconds = ours.GetProperty("seconds").EnumerateArray().Last().GetDouble(),
            oursMb = ours.GetProperty("peak_mb").GetDouble();
        const string name = "unet3d-16f-32x32";
        Report.Emit("published", name, "longshot", oursSeconds * 1000, "ms");
        Report.Emit("published", name + "-peak-memory", "longshot", oursMb, "MB");
        Report.Emit("published", name + "-first-call", "longshot",
            ours.GetProperty("seconds").EnumerateArray().First().GetDouble() * 1000, "ms");
        var python = Environment.GetEnvironmentVariable("REF_PY");
        if (python == null)
        {
            Console.Error.WriteLine("unet3d: REF_PY is not set (source ../shared/reference/env.sh): PyTorch's side " +
                "skipped.");
            return;
        }
        var torch = PublishedBench.RunJson(python, new[] { "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE" },
            "tools/unet3d_torch.py", Frames.ToString(), Size.ToString(), Calls.ToString());
        double torchSeconds = torch.GetProperty("seconds").EnumerateArray().Last().GetDouble(),
            torchMb = torch.GetProperty("peak_mb").GetDouble();
        Report.Emit("published", name, "pytorch", torchSeconds * 1000, "ms");
        Report.Emit("published", name + "-peak-memory", "pytorch", torchMb, "MB");
        Report.Emit("published", name + " time ratio", "longshot/pytorch", oursSeconds / torchSeconds, "x");
        Report.Emit("published", name + " memory ratio", "longshot/pytorch", oursMb / torchMb, "x");
    }

    /// <summary>Writes the random real-size folder (config.json and the fp16 weights).</summary>
    public static void Prepare()
    {
        Directory.CreateDirectory(Folder);
        var config = new Unet3DConfig { SampleSize = 32 };
        var unet = Unet3DModel.Random(config, 1);
        File.WriteAllText(Path.Combine(Folder, "config.json"), JsonSerializer.Serialize(config));
        unet.Parameters.Save(Path.Combine(Folder, "diffusion_pytorch_model.fp16.safetensors"), DType.F16);
        Console.Error.WriteLine($"unet3d: wrote {unet.Parameters.ElementCount:N0} random parameters to {Folder}");
    }

    /// <summary>Our side: load the folder (mapped), run the calls, print one JSON line.</summary>
    public static void Ours()
    {
        var unet = ModelFamilies.Load<Unet3DModel>(Folder);
        var rng = new Rng(0);
        var sample = Tensor.Randn(rng, 1, 4, Frames, Size, Size);
        var context = Tensor.Randn(rng, 1, 77, 1024);
        var seconds = new List<double>();
        using (Tensor.NoGrad())
            for (int i = 0; i < Calls; i++)
            {
                var sw = Stopwatch.StartNew();
                unet.Forward(sample, 421, context);
                seconds.Add(sw.Elapsed.TotalSeconds);
            }
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            seconds, peak_mb = PublishedBench.PeakResidentMb(), file_mb = PublishedBench.Status("RssFile"),
            anon_mb = PublishedBench.Status("RssAnon"), gemm = Gemm.Backend.ToString(), threads = Threads.Count,
            parameters = unet.Parameters.ElementCount,
        }));
    }
}
