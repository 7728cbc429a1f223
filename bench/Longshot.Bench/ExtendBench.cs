using System.Diagnostics;
using System.Text.Json;
using Longshot.Diffusion;
using Longshot.Diffusion.ExVideo;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Diffusion.Unet;
using Longshot.Tensors;
using Longshot.Tensors.Autograd;
using Longshot.Tensors.Kernels;
using Longshot.Tensors.Optim;

namespace Longshot.Bench;

/// <summary>
/// ExVideo post-tuning's cost: one training step of the extended model (shipped size, 80 frames of 16 x 16 latents,
/// the first frame given, only the temporal blocks trained, AdamW) in float32 with and without gradient
/// checkpointing, and in bfloat16 mixed precision with checkpointing. Each setting runs in a process of its own, so
/// that its peak resident memory is its own.
/// </summary>
internal static class ExtendBench
{
    /// <summary>The settings, each also a bench case of its own (run in this process).</summary>
    public static readonly string[] Settings = { "extend-step-f32", "extend-step-f32-ckpt", "extend-step-bf16-ckpt" };

    public static void Run()
    {
        GemmBf16VsFloat();
        GenerationAt80();
        foreach (var setting in Settings)
        {
            var self = Environment.ProcessPath!;
            var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
                psi.ArgumentList.Add(typeof(ExtendBench).Assembly.Location);
            psi.ArgumentList.Add(setting);
            psi.ArgumentList.Add("--json");
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"{setting} failed (exit {p.ExitCode}).");
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                using var doc = JsonDocument.Parse(line);
                var r = doc.RootElement;
                Report.Emit("extend", r.GetProperty("case").GetString()!, r.GetProperty("backend").GetString()!,
                    r.GetProperty("value").GetDouble(), r.GetProperty("unit").GetString()!);
            }
        }
    }

    /// <summary>80 frames by the shipped extended model in one pass against DoD (demo sampler, wall seconds of the
    /// diffusion, after a warm-up).</summary>
    private static void GenerationAt80()
    {
        var pipe = ShippedModels.Pipeline();
        pipe.ExtendedModel = MtdPipelineParts.Load(ShippedModels.Extended());
        var story = Storyline.Load(ShippedModels.DemoStory());
        string backend = Gemm.Backend.ToString().ToLowerInvariant();
        foreach (var scheme in new GenerationScheme[] { new Extended(), new DiffusionOverDiffusion() })
        {
            var r = new GenerationRequest(story, 80) { Scheme = scheme, Sampler = ShippedModels.Sampler };
            pipe.GenerateLatents(r with { Sampler = r.Sampler with { Steps = 1 } });
            var sw = Stopwatch.StartNew();
            pipe.GenerateLatents(r);
            Report.Emit("extend", $"{scheme.Name}-80", backend, sw.Elapsed.TotalSeconds, "s");
        }
    }

    /// <summary>Square GEMM at n = 1024 with bfloat16 inputs against float32 (the built-in kernel unless LONGSHOT_GEMM
    /// says otherwise), alternating.</summary>
    private static unsafe void GemmBf16VsFloat()
    {
        const int n = 1024;
        var rng = new Rng(1);
        var a = Tensor.Randn(rng, n * n).ToArray();
        var b = Tensor.Randn(rng, n * n).ToArray();
        ushort[] a16 = Bf16.FromFloat(a), b16 = Bf16.FromFloat(b);
        var c = new float[n * n];
        var secs = Report.TimeInterleaved(new Action[]
        {
            () =>
            {
                fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
                    Gemm.Sgemm(false, false, n, n, n, 1f, pa, n, pb, n, 0f, pc, n);
            },
            () =>
            {
                fixed (ushort* pa = a16) fixed (ushort* pb = b16) fixed (float* pc = c)
                    GemmBf16.Sgemm(false, false, n, n, n, 1f, pa, n, pb, n, 0f, pc, n);
            },
        }, 0.5);
        Report.Emit("extend", "gemm-f32-1024", Gemm.Backend.ToString().ToLowerInvariant(),
            2.0 * n * n * n / secs[0] / 1e9, "GFLOP/s");
        Report.Emit("extend", "gemm-bf16-1024", "builtin", 2.0 * n * n * n / secs[1] / 1e9, "GFLOP/s");
    }

    /// <summary>One setting, in this process: two timed steps after a warm-up, and the process's peak memory.</summary>
    public static void Step(string setting)
    {
        bool checkpointing = setting.EndsWith("-ckpt", StringComparison.Ordinal);
        bool bf16 = setting.Contains("-bf16", StringComparison.Ordinal);
        const int frames = 80;
        var baseModel = MtdPipelineParts.Load(ShippedModels.Base());
        var model = ExVideoExtension.Extend(baseModel, new ExVideoSettings(frames));
        model.Unet.GradientCheckpointing = checkpointing;
        var trainable = model.Parameters.Trainable.ToList();
        var opt = new AdamW(trainable, 1e-4f, weightDecay: 0.01f);
        var rng = new Rng(1);
        var x0 = Tensor.Randn(rng, frames, 4, 16, 16);
        var prompts = model.EncodePrompts(Enumerable.Repeat("a red ball", frames).ToList()).Detach();
        var (cond, mask) = MtdConditions.Build(x0, Enumerable.Range(0, frames).Select(f => f == 0).ToArray());
        var positions = Enumerable.Range(0, frames).ToArray();
        void TrainStep()
        {
            var noise = Tensor.Randn(rng, frames, 4, 16, 16);
            int t = rng.NextInt(1000);
            var ts = Enumerable.Repeat(t, frames).ToArray();
            var xt = model.Schedule.AddNoise(x0, noise, ts);
            var target = model.Schedule.TrainingTarget(x0, noise, ts);
            GradStore grads;
            using (bf16 ? MixedPrecision.Bf16() : null)
            {
                var pred = model.Unet.Forward(new MtdInput(xt, new[] { t }, prompts, cond, mask, positions));
                grads = (Ops.Sum(Ops.Square(pred - target)) / pred.Numel).Backward();
            }
            opt.Step(grads);
        }
        TrainStep();
        var sw = Stopwatch.StartNew();
        TrainStep();
        TrainStep();
        double seconds = sw.Elapsed.TotalSeconds / 2;
        string backend = Gemm.Backend.ToString().ToLowerInvariant();
        Report.Emit("extend", setting, backend, seconds, "s");
        Report.Emit("extend", $"{setting}-memory", backend, PeakResidentMegabytes(), "MB");
    }

    private static double PeakResidentMegabytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
        return double.NaN;
    }
}
