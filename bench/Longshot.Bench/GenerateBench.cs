using System.Diagnostics;
using Longshot.Diffusion;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Longshot.Tensors.Cuda;
using Longshot.Tensors.Devices;
using Longshot.Tensors.Kernels;

namespace Longshot.Bench;

/// <summary>
/// Diffusion over diffusion against the autoregressive baseline and clip parallelism (16-frame clips, dual scope) with
/// the shipped checkpoints and the demo's sampler settings, at 16, 256 and 1024 frames: wall time (diffusion plus
/// decoding to frames), the diffusion alone, frames/s, peak resident memory, the critical path in sequential model
/// calls, and for clips the data the clips exchange per denoising step.
/// </summary>
internal static class GenerateBench
{
    /// <summary>--device: where the generate case samples (default cpu); the clips scheme stays on the CPU.</summary>
    public static string DeviceName { get; set; } = "cpu";

    public static void Run()
    {
        // LONGSHOT_BENCH_BATCH=N sets DoD's units per batch (default: the pipeline's); LONGSHOT_BENCH_SCHEMES=dod
        // (comma list) runs only those schemes.
        var batchVar = Environment.GetEnvironmentVariable("LONGSHOT_BENCH_BATCH");
        int batch = batchVar == null ? LongVideoPipeline.DefaultBatchSize
            : int.TryParse(batchVar, out var b) && b > 0 ? b
            : throw new ArgumentException($"LONGSHOT_BENCH_BATCH must be a positive whole number, got '{batchVar}'.");
        var schemes = Environment.GetEnvironmentVariable("LONGSHOT_BENCH_SCHEMES")?.Split(',')
            .Select(GenerationSchemes.Parse).ToArray()
            ?? GenerationSchemes.OnStoryModels.ToArray();
        var pipe = ShippedModels.Pipeline();
        pipe.BatchSize = batch;
        var device = Device.Parse(DeviceName);
        if (device != Device.Cpu)
        {
            CudaBackend.EnsureRegistered(device);
            pipe.ToDevice(device, batchVar == null ? LongVideoPipeline.DeviceBatchSize : batch);
            schemes = schemes.Where(x => x.RunsOnDevice).ToArray();
        }
        var story = Storyline.Load(ShippedModels.DemoStory());
        var o = ShippedModels.Sampler;
        const int length = 16;
        int callsPerStep = o.GuidanceScale != 1f ? 2 : 1;
        string backend = device == Device.Cpu ? Gemm.Backend.ToString().ToLowerInvariant() : device.ToString();
        // Warm up (JIT, first-touch allocations) so the first timed case is not charged for them.
        var warm = new GenerationRequest(story, 2 * length - 1) { Scheme = new DiffusionOverDiffusion(),
            Length = length, Seed = 2, Sampler = o with { Steps = 1 } };
        pipe.Decode(pipe.GenerateLatents(warm), warm.Frames).Count();
        // LONGSHOT_BENCH_FRAMES=1024 (comma list) runs only those lengths.
        var lengths = Environment.GetEnvironmentVariable("LONGSHOT_BENCH_FRAMES")?.Split(',').Select(int.Parse)
            .ToArray()
            ?? new[] { 16, 256, 1024 };
        // Each scheme with the shipped sampler, and with fills from pure noise (fill start 1: NUWA-XL's own local
        // process, every unit all steps, as AR's units always run), so the two compare at the same settings.
        // LONGSHOT_BENCH_SAMPLERS=shipped or fill-start-1 runs one of them.
        var samplers = new[] { ("", o), ("-fill-start-1", o with { FillStart = 1f }) }
            .Where(x => Environment.GetEnvironmentVariable("LONGSHOT_BENCH_SAMPLERS") is not { } only
                        || only.Split(',').Contains(x.Item1 == "" ? "shipped" : x.Item1[1..]))
            .ToArray();
        foreach (int n in lengths)
            foreach (var scheme in schemes)
            foreach (var (suffix, settings) in samplers)
            {
                var request = new GenerationRequest(story, n) { Scheme = scheme, Length = length, Seed = 1,
                    Sampler = settings };
                string name = $"{scheme.Name}-{n}{suffix}";
                GC.Collect();
                long peak = Environment.WorkingSet;
                using var memory = new Timer(_ =>
                {
                    long w = Environment.WorkingSet;
                    if (w > Interlocked.Read(ref peak)) Interlocked.Exchange(ref peak, w);
                }, null, 0, 20);
                var sw = Stopwatch.StartNew();
                var latents = pipe.GenerateLatents(request);
                double diffusion = sw.Elapsed.TotalSeconds;
                int decoded = pipe.Decode(latents, n).Count();
                double total = sw.Elapsed.TotalSeconds;
                memory.Change(Timeout.Infinite, Timeout.Infinite);
                if (decoded != n) throw new InvalidOperationException($"{name}: decoded {decoded} frames.");
                int rounds = LongVideoPipeline.Plan(request).CriticalPath;
                Report.Emit("generate", name, backend, total, "s");
                Report.Emit("generate", $"{name}-diffusion", backend, diffusion, "s");
                Report.Emit("generate", $"{name}-frames-per-second", backend, n / total, "frames/s");
                Report.Emit("generate", $"{name}-peak-memory", backend, Interlocked.Read(ref peak) / 1e6, "MB");
                Report.Emit("generate", $"{name}-critical-path", backend, rounds * o.Steps * callsPerStep, "calls");
                if (pipe.LastClipExchangeBytes is { } bytes)
                    Report.Emit("generate", $"{name}-exchange-per-step", backend, bytes / 1e6 / o.Steps, "MB");
            }
    }

    /// <summary>
    /// What bounds DoD's gain on this machine: one local unit (the demo sampler's 8 guided steps) on one kernel
    /// thread, on every thread (how AR runs each unit), and one unit per core side by side (how DoD runs a level).
    /// DoD over AR on the diffusion is at most (69 x AR's unit) / (75 x side-by-side unit / workers) at 1,024 frames.
    /// </summary>
    public static void UnitScaling()
    {
        var vae = AutoencoderKL.Load(ShippedModels.Vae());
        int size = vae.LatentSize;
        var sampler = new MtdSampler(MtdPipelineParts.Load(ShippedModels.Local()), vae.Config.LatentChannels, size,
            size);
        var story = Storyline.Load(ShippedModels.DemoStory());
        var o = ShippedModels.Sampler;
        string backend = Gemm.Backend.ToString().ToLowerInvariant();
        int cores = Threads.Count;
        MtdClip Clip(int unit) => LocalClip(story, vae.Config.LatentChannels, size, unit);
        double Time(Action a, int reps = 3)
        {
            a();
            var times = new List<double>();
            for (int r = 0; r < reps; r++) { var sw = Stopwatch.StartNew(); a(); times.Add(sw.Elapsed.TotalSeconds); }
            return times.Order().ElementAt(reps / 2);
        }
        double one, all, pair;
        using (Threads.LimitTo(1)) one = Time(() => sampler.Sample(new[] { Clip(0) }, o));
        all = Time(() => sampler.Sample(new[] { Clip(0) }, o));
        pair = Time(() => Threads.SideBySide(cores, w => sampler.Sample(new[] { Clip(w) }, o))) / cores;
        Report.Emit("units", "local-unit-1-thread", backend, one, "s");
        Report.Emit("units", $"local-unit-{cores}-threads", backend, all, "s");
        Report.Emit("units", $"local-unit-{cores}-side-by-side", backend, pair, "s per unit");
        Report.Emit("units", "ar-speedup-from-threads", backend, one / all, "x");
        Report.Emit("units", "dod-speedup-from-workers", backend, one / pair, "x");
    }

    /// <summary>
    /// Classifier-free guidance as two UNet calls per step or as one call on a doubled batch: one local unit (the
    /// demo sampler) on one thread, on every thread, and one per core side by side, timed in alternating blocks.
    /// </summary>
    public static void GuidanceBatching()
    {
        var vae = AutoencoderKL.Load(ShippedModels.Vae());
        int size = vae.LatentSize;
        var parts = MtdPipelineParts.Load(ShippedModels.Local());
        var two = new MtdSampler(parts, vae.Config.LatentChannels, size, size);
        var one = new MtdSampler(parts, vae.Config.LatentChannels, size, size) { GuidanceInOneCall = true };
        var story = Storyline.Load(ShippedModels.DemoStory());
        var o = ShippedModels.Sampler;
        string backend = Gemm.Backend.ToString().ToLowerInvariant();
        int cores = Threads.Count;
        MtdClip Clip(int unit) => LocalClip(story, vae.Config.LatentChannels, size, unit);
        var a = two.Sample(new[] { Clip(0) }, o)[0].ToArray();
        var b = one.Sample(new[] { Clip(0) }, o)[0].ToArray();
        double worst = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        Report.Emit("guidance", "one-call-vs-two-max-abs-difference", backend, worst, "");
        double[] t;
        using (Threads.LimitTo(1))
            t = Report.TimeInterleaved(new Action[] { () => two.Sample(new[] { Clip(0) }, o),
                () => one.Sample(new[] { Clip(0) }, o) },
                4, 2);
        Report.Emit("guidance", "two-calls-1-thread", backend, t[0], "s per unit");
        Report.Emit("guidance", "one-call-1-thread", backend, t[1], "s per unit");
        t = Report.TimeInterleaved(new Action[] { () => two.Sample(new[] { Clip(0) }, o),
            () => one.Sample(new[] { Clip(0) }, o) },
            4, 2);
        Report.Emit("guidance", $"two-calls-{cores}-threads", backend, t[0], "s per unit");
        Report.Emit("guidance", $"one-call-{cores}-threads", backend, t[1], "s per unit");
        t = Report.TimeInterleaved(new Action[]
        {
            () => Threads.SideBySide(cores, w => two.Sample(new[] { Clip(w) }, o)),
            () => Threads.SideBySide(cores, w => one.Sample(new[] { Clip(w) }, o)),
        }, 6, 2);
        Report.Emit("guidance", $"two-calls-{cores}-side-by-side", backend, t[0] / cores, "s per unit");
        Report.Emit("guidance", $"one-call-{cores}-side-by-side", backend, t[1] / cores, "s per unit");
    }

    /// <summary>
    /// Given frames held during sampling, or left to drift, units sampled from noise as the probe has always done, then
    /// the shipped fills with each fill ease (<see cref="Longshot.Eval.Metrics.SeamProbe"/>): the RMS latent jump from
    /// a given frame to its generated neighbour against the jump between generated neighbours.
    /// </summary>
    public static void Seams()
    {
        string backend = Gemm.Backend.ToString().ToLowerInvariant();
        foreach (var hold in new[] { false, true })
        {
            var (seam, neighbour) = Longshot.Eval.Metrics.SeamProbe.Measure(hold,
                sampler: ShippedModels.Sampler with { FillStart = 1 });
            string name = hold ? "held" : "drifting";
            Report.Emit("seams", $"given-{name}-seam-jump", backend, seam, "rms");
            Report.Emit("seams", $"given-{name}-neighbour-jump", backend, neighbour, "rms");
        }
        // The shipped fills (started from their given frames), easing into them over 1 (not at all) to 4 slots.
        foreach (int ease in new[] { 1, 2, 3, 4 })
        {
            var (seam, neighbour) = Longshot.Eval.Metrics.SeamProbe.Measure(true,
                sampler: ShippedModels.Sampler with { FillEase = ease });
            Report.Emit("seams", $"fill-ease-{ease}-seam-jump", backend, seam, "rms");
            Report.Emit("seams", $"fill-ease-{ease}-neighbour-jump", backend, neighbour, "rms");
        }
    }

    /// <summary>Local unit <paramref name="unit"/> of the demo storyline: 16 consecutive frames, random given
    /// ends.</summary>
    private static MtdClip LocalClip(Storyline story, int channels, int size, int unit)
    {
        var positions = Enumerable.Range(unit * 15, 16).ToArray();
        var given = positions.Select((_, f) => f == 0 || f == 15
            ? Tensor.Randn(new Rng((ulong)(unit * 16 + f)), channels, size, size) : null).ToArray();
        return new MtdClip(positions, positions.Select(story.PromptAt).ToArray(), given, new Rng((ulong)unit));
    }
}
