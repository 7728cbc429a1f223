using System.Diagnostics;
using Longshot.Diffusion;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Distributed;
using Longshot.Tensors;
using Longshot.Tensors.Kernels;

namespace Longshot.Bench;

/// <summary>
/// Longshot over MPI ranks. Measured: the all-reduce of the MTD's gradients and the send-receive of one unit's
/// latents between 2 ranks (under mpirun, started by this bench), a 256-frame generation on 2 ranks against one
/// process with two workers (same run), and what a unit of each kind costs on one core. Projected from those
/// measurements: DoD and AR diffusion time at 1,024 and 3,376 frames on W workers (list scheduling over the real
/// dependency graph; cases dod-N-wW and ar-N-wW, unit "s projected"), beside the ratio the paper reports.
/// </summary>
internal static class DistributedBench
{
    private const int Length = 16;

    /// <summary>`bench distributed`: starts the 2-rank part under mpirun, then measures and projects here.</summary>
    public static void Run()
    {
        string backend = Gemm.Backend.ToString().ToLowerInvariant();
        RunRanks(backend);
        var story = Storyline.Load(ShippedModels.DemoStory());
        var pipe = ShippedModels.Pipeline();
        var request = new GenerationRequest(story, 256) { Scheme = new DiffusionOverDiffusion(), Length = Length };
        pipe.Decode(pipe.GenerateLatents(request with { Frames = 31, Sampler = request.Sampler with { Steps = 1 } }),
            31).Count();
        var sw = Stopwatch.StartNew();
        pipe.Decode(pipe.GenerateLatents(request), 256).Count();
        Report.Emit("distributed", "generate-256-one-process-2-workers", backend, sw.Elapsed.TotalSeconds, "s");
        Project(backend, pipe, story);
    }

    /// <summary>Runs this bench's rank part under `mpirun -np 2` and passes its report through.</summary>
    private static void RunRanks(string backend)
    {
        var psi = new ProcessStartInfo("mpirun") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "--oversubscribe", "--allow-run-as-root", "-np", "2", "dotnet",
                     typeof(DistributedBench).Assembly.Location, "distributed-ranks" })
            psi.ArgumentList.Add(a);
        if (Report.Json) psi.ArgumentList.Add("--json");
        psi.Environment["LONGSHOT_GEMM"] = backend;
        Process? p;
        try { p = Process.Start(psi); }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine("distributed: mpirun not found (apt-get install openmpi-bin); rank cases skipped.");
            return;
        }
        foreach (var line in p!.StandardOutput.ReadToEnd().Split('\n').Where(l => l.Contains("distributed")))
            Console.WriteLine(line.TrimStart('\u001b', '[', '?', '1', 'h', '='));
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"mpirun -np 2 distributed-ranks exited with {p.ExitCode}.");
    }

    /// <summary>`bench distributed-ranks`, under mpirun: what only ranks can measure.</summary>
    public static void Ranks()
    {
        using var ranks = MpiCommunicator.Initialize();
        if (ranks.Size != 2) throw new InvalidOperationException("distributed-ranks runs on exactly 2 ranks.");
        string backend = Gemm.Backend.ToString().ToLowerInvariant();
        int cores = Math.Max(1, Environment.ProcessorCount / ranks.LocalSize);
        Threads.Count = cores;

        // The MTD's gradients: one float per trainable parameter of the shipped configuration.
        int count = MtdPipelineParts.Load(ShippedModels.Local()).Parameters.Trainable.Sum(p => p.Value.Numel);
        var grads = new float[count];
        double allReduce = Median(20, () => ranks.AllReduceSum(grads), ranks);
        Emit(ranks, "allreduce-mtd-grads", backend, allReduce * 1e3, "ms");
        Emit(ranks, "allreduce-mtd-grads-bandwidth", backend, count * 4.0 / allReduce / 1e9, "GB/s");
        Emit(ranks, "allreduce-mtd-grads-size", backend, count * 4.0 / 1e6, "MB");

        // One unit's latents (16 frames of 4 x 16 x 16) there and back.
        var unit = new float[Length * 4 * 16 * 16];
        var back = new float[unit.Length];
        double roundTrip = Median(200, () =>
        {
            if (ranks.Rank == 0)
            {
                ranks.Send(unit, 1, 31);
                ranks.ReceiveFloats(1, 32);
            }
            else
            {
                ranks.ReceiveFloats(0, 31);
                ranks.Send(back, 0, 32);
            }
        }, ranks);
        Emit(ranks, "sendrecv-unit", backend, roundTrip / 2 * 1e3, "ms");
        Emit(ranks, "sendrecv-unit-bandwidth", backend, unit.Length * 4.0 / (roundTrip / 2) / 1e9, "GB/s");

        // A 256-frame generation: rank 0 schedules and decodes, rank 1 samples every unit.
        var pipe = ShippedModels.Pipeline();
        var request = new GenerationRequest(Storyline.Load(ShippedModels.DemoStory()), 256)
        {
            Scheme = new DiffusionOverDiffusion(), Length = Length,
        };
        ranks.Barrier();
        var sw = Stopwatch.StartNew();
        if (ranks.Rank == 0)
        {
            pipe.Ranks = ranks;
            pipe.Decode(pipe.GenerateLatents(request), 256).Count();
        }
        else request.Scheme.ServeRank(pipe, request, ranks, default);
        ranks.Barrier();
        Emit(ranks, "generate-256-mpi-2-ranks", backend, sw.Elapsed.TotalSeconds, "s");
    }

    private static void Emit(ICommunicator ranks, string name, string backend, double value, string unit)
    {
        if (ranks.Rank == 0) Report.Emit("distributed", name, backend, value, unit);
    }

    /// <summary>Median seconds of <paramref name="reps"/> calls, every rank in step (a barrier before each).</summary>
    private static double Median(int reps, Action call, ICommunicator ranks)
    {
        for (int w = 0; w < 3; w++) call();
        var times = new List<double>();
        for (int i = 0; i < reps; i++)
        {
            ranks.Barrier();
            var sw = Stopwatch.StartNew();
            call();
            times.Add(sw.Elapsed.TotalSeconds);
        }
        return times.Order().ElementAt(reps / 2);
    }

    /// <summary>
    /// Diffusion time of DoD and AR at 1,024 and 3,376 frames on W workers, over the real dependency graph (list
    /// scheduling, coarsest ready unit first, as the pipeline schedules). Each unit is charged what a unit of its kind
    /// costs on one core, measured here: its model (global or local), its frames, the frames it is given and so its
    /// steps (the keyframes' own steps; a fill between given frames sampled over the sampler's fill start), with
    /// guidance. Messages are left out (the measured send-receive is far below a unit). AR's units depend on each
    /// other, so it gains nothing from workers. Projected for the shipped sampler and for fills from pure noise
    /// (fill start 1, NUWA-XL's own local process).
    /// </summary>
    private static void Project(string backend, LongVideoPipeline pipe, Storyline story)
    {
        // NUWA-XL's Table: 1,024 frames in 7.55 min autoregressively against 26 s by diffusion over diffusion.
        Report.Emit("distributed", "paper-ar-over-dod-1024", "paper", 7.55 * 60 / 26, "x");
        foreach (var (label, sampler) in new[]
                 {
                     ("", ShippedModels.Sampler), ("-fill-start-1", ShippedModels.Sampler with { FillStart = 1f }),
                 })
        {
            var cost = new UnitCosts(pipe, story, sampler);
            foreach (int frames in new[] { 1024, 3376 })
            {
                var dod = new DodSchedule(frames, Length);
                double a = new AutoregressiveSchedule(frames, Length).Units.Sum(u => cost.Of(u, new Autoregressive()));
                foreach (int w in new[] { 1, 2, 4, 8, 16, 64 })
                {
                    double d = Makespan(dod, w, u => cost.Of(u, new DiffusionOverDiffusion()));
                    Report.Emit("distributed", $"dod-{frames}-w{w}{label}", backend, d, "s projected");
                    Report.Emit("distributed", $"ar-{frames}-w{w}{label}", backend, a, "s projected");
                    Report.Emit("distributed", $"ar-over-dod-{frames}-w{w}{label}", backend, a / d, "x projected");
                }
            }
            foreach (var (kind, seconds) in cost.Measured)
                Report.Emit("distributed", $"unit-1-core-{kind}{label}", backend, seconds, "s");
        }
    }

    /// <summary>What one unit of each kind costs on one core (median of 3 after a warm-up), measured once per kind:
    /// sampled with stand-in latents for its given frames, which cost what real ones cost.</summary>
    private sealed class UnitCosts(LongVideoPipeline pipe, Storyline story, SamplerOptions sampler)
    {
        private readonly Dictionary<string, double> _seconds = new();

        /// <summary>Every kind measured so far ("global-16-none", "local-16-ends", ...) and its seconds.</summary>
        public IEnumerable<(string Kind, double Seconds)> Measured => _seconds.Select(x => (x.Key, x.Value));

        public double Of(WorkUnit u, GenerationScheme scheme)
        {
            string given = u.Given.All(g => !g) ? "none" : u.Given[0] && u.Given[^1] ? "ends" : "first";
            string kind = $"{(u.IsGlobal ? "global" : "local")}-{u.Positions.Length}-{given}";
            if (_seconds.TryGetValue(kind, out var s)) return s;
            var request = new GenerationRequest(story, u.Positions.Max() + 1)
            {
                Scheme = scheme, Length = Length, Sampler = sampler,
            };
            var known = Enumerable.Range(0, request.Frames).ToDictionary(f => f,
                f => Tensor.Randn(new Rng((ulong)f + 1), pipe.UnitShape(u)[1..]));
            using (Threads.LimitTo(1))
            {
                pipe.SampleBatch(request, new List<WorkUnit> { u }, known, default);
                var times = new List<double>();
                for (int i = 0; i < 3; i++)
                {
                    var sw = Stopwatch.StartNew();
                    pipe.SampleBatch(request, new List<WorkUnit> { u }, known, default);
                    times.Add(sw.Elapsed.TotalSeconds);
                }
                return _seconds[kind] = times.Order().ElementAt(1);
            }
        }
    }

    /// <summary>Finish time of the last unit when W workers each take the next ready unit as soon as they are
    /// free.</summary>
    internal static double Makespan(DodSchedule schedule, int workers, Func<WorkUnit, double> unitSeconds)
    {
        var todo = schedule.Units.ToList();
        var ready = new HashSet<int>();
        var free = new PriorityQueue<int, double>();
        for (int w = 0; w < workers; w++) free.Enqueue(w, 0);
        var running = new PriorityQueue<WorkUnit, double>();
        double now = 0, end = 0;
        while (todo.Count > 0 || running.Count > 0)
        {
            var batches = DiffusionOverDiffusion.NextBatches(todo, ready.Contains, free.Count, workers, 1);
            foreach (var b in batches)
            {
                free.Dequeue();
                running.Enqueue(b[0], now + unitSeconds(b[0]));
            }
            if (running.Count == 0)
                throw new InvalidOperationException("the schedule left units that never became ready.");
            running.TryDequeue(out var done, out now);
            foreach (var p in done!.Generates) ready.Add(p);
            free.Enqueue(0, now);
            end = Math.Max(end, now);
        }
        return end;
    }
}
