using Longshot.Diffusion.Distributed;
using Longshot.Diffusion.Pipelines;
using Longshot.Distributed;
using Longshot.Tensors;
using Longshot.Tensors.Kernels;

namespace Longshot.Diffusion.Schemes;

/// <summary>
/// NUWA-XL's diffusion over diffusion (section 3.3): the global model draws L keyframes over the hierarchy's span
/// (<see cref="DodSchedule"/>), then at each level the local model fills every gap between neighbouring frames, all
/// gaps of a level as independent units, on this process's cores or over MPI ranks. Every unit draws its noise from a
/// seed derived from (run seed, level, index), so the video does not depend on batching or worker count.
/// </summary>
/// <param name="Depth">Levels of the hierarchy (null: <see cref="DodSchedule.DefaultDepth"/>; more split every level
/// into fewer steps).</param>
public sealed record DiffusionOverDiffusion(int? Depth = null) : GenerationScheme
{
    /// <inheritdoc/>
    public override string Name => "dod";

    /// <inheritdoc/>
    public override string Title => "diffusion over diffusion";

    /// <inheritdoc/>
    public override bool Resumes => true;

    /// <inheritdoc/>
    public override bool HasKeyframes => true;

    /// <inheritdoc/>
    public override bool Redraws => true;

    /// <inheritdoc/>
    public override bool RunsOverRanks => true;

    /// <inheritdoc/>
    public override string RanksDescription(int ranks) =>
        $"running on {ranks} MPI ranks: rank 0 schedules, saves and decodes, {ranks - 1} sample units";

    /// <summary>"spread" marks the schedule over exactly the requested frames, so a run folder from the earlier
    /// schedule is not mixed in.</summary>
    public override string Identity => $"spread|{Depth?.ToString() ?? "auto"}|";

    /// <inheritdoc/>
    public override string SettingsNote => Depth is { } d ? $"depth {d}; " : "";

    /// <inheritdoc/>
    public override void Validate(GenerationRequest r) => Schedule(r);

    /// <summary>The schedule of <paramref name="r"/>: which units each level samples.</summary>
    public DodSchedule Schedule(GenerationRequest r) => new(r.Frames, r.Length, Depth);

    /// <inheritdoc/>
    public override GenerationPlan Plan(GenerationRequest r)
    {
        var s = Schedule(r);
        return new GenerationPlan(this, s.Frames, s.Levels.Select(l => (IReadOnlyList<int>)l
                .SelectMany(u => u.Generates).Where(p => p < s.Frames).Distinct().Order().ToList()).ToList(),
            s.Levels.Sum(l => l.Count), s.CriticalPath);
    }

    /// <summary>
    /// Batches start as soon as their units' given frames exist, not level by level: a level-3 gap can be filled
    /// while other level-2 units are still being sampled, so no worker waits at a level boundary or behind a slower
    /// batch. With a run folder every finished unit is saved (atomically) and a rerun loads it instead of sampling.
    /// </summary>
    protected internal override IEnumerable<int> Run(LongVideoPipeline pipe, GenerationRequest r,
        Dictionary<int, Tensor> known, IProgress<GenerationProgress>? progress, CancellationToken ct)
    {
        // 1. Check inputs and plan.
        pipe.CheckUnitLength(r.Length);
        var schedule = Schedule(r);
        // 2. Load what an earlier run of the same request finished.
        using var run = r.RunDir != null ? UnitStore.Open(r.RunDir, r.Identity) : null;
        int levels = schedule.Levels.Count, total = schedule.Levels.Sum(l => l.Count);
        var done = new int[levels];
        var todo = new List<WorkUnit>();
        foreach (var u in schedule.Units)
        {
            if (run?.TryLoad(u, pipe.UnitShape(u)) is { } saved)
            {
                LongVideoPipeline.Record(u, saved, known);
                done[u.Level - 1]++;
                pipe.UnitFinished?.Invoke(u, saved);
            }
            else todo.Add(u);
        }
        foreach (var damaged in run?.Damaged ?? new List<string>()) pipe.Warning?.Invoke(damaged);
        yield return 0;
        // 3. Denoise every unit whose given frames exist, on threads or ranks, until none is left.
        using IUnitRunner runner = pipe.Ranks is { Size: > 1 } ranks
            ? new RankUnitRunner(ranks, known, schedule, pipe.UnitShape,
                new ThreadUnitRunner(1, (batch, token) => pipe.SampleBatch(r, batch, known, token), ct))
            : new ThreadUnitRunner(Math.Clamp(pipe.Workers, 1, Math.Max(1, Threads.Count)),
                (batch, token) => pipe.SampleBatch(r, batch, known, token), ct);
        void StartBatches()
        {
            var batches = NextBatches(todo, known.ContainsKey, runner.Capacity - runner.Running, runner.Capacity,
                pipe.BatchSize);
            bool alone = runner.Running + batches.Count == 1;
            foreach (var batch in batches) runner.Start(batch, alone);
        }
        StartBatches();
        while (runner.Running > 0)
        {
            var (units, outs) = runner.WaitAny(ct);
            for (int j = 0; j < units.Count; j++)
            {
                LongVideoPipeline.Record(units[j], outs[j], known);
                run?.Save(units[j], outs[j]);
                pipe.UnitFinished?.Invoke(units[j], outs[j]);
            }
            int level = units[0].Level;
            done[level - 1] += units.Count;
            progress?.Report(new GenerationProgress(level, levels, done[level - 1], schedule.Levels[level - 1].Count,
                done.Sum(), total));
            // Refill the workers before yielding, so they keep sampling while the caller decodes finished frames.
            StartBatches();
            yield return 0;
        }
        if (todo.Count > 0)
            throw new InvalidOperationException($"DoD: {todo.Count} units were never ready; the schedule is " +
                $"inconsistent.");
    }

    /// <summary>Samples whatever batch rank 0 sends until it says stop (<see cref="RankWorker"/>).</summary>
    public override void ServeRank(LongVideoPipeline pipe, GenerationRequest r, ICommunicator ranks,
        CancellationToken ct) => RankWorker.Serve(pipe, r.Validate(), Schedule(r), ranks, ct);

    /// <summary>
    /// Batches to start on <paramref name="free"/> idle workers: units whose given frames are all known, coarsest level
    /// first (they unlock the most work), of one spacing, at most <paramref name="batchSize"/> each. Near the end the
    /// remaining units are spread over all workers (5 left on 2 workers: 3 + 2, not 4 + 1), since a batch lasts as
    /// long as its size. Started units are removed from <paramref name="todo"/>.
    /// </summary>
    internal static List<List<WorkUnit>> NextBatches(List<WorkUnit> todo, Func<int, bool> known, int free, int workers,
        int batchSize)
    {
        var batches = new List<List<WorkUnit>>();
        int fairShare = (todo.Count + workers - 1) / workers;
        while (free > 0 && todo.Count > 0)
        {
            var ready = todo.Where(u => u.Positions.Where((_, f) => u.Given[f]).All(known)).ToList();
            if (ready.Count == 0) break;
            int level = ready.Min(u => u.Level);
            // One model call takes units of one spacing (the relative positions the UNet's attention sees).
            var sameLevel = ready.Where(u => u.Level == level).GroupBy(u => u.Spacing)
                .OrderByDescending(g => g.Count()).First().ToList();
            int take = Math.Min(sameLevel.Count, Math.Min(batchSize, fairShare));
            take = Math.Max(1, Math.Min(take, (sameLevel.Count + free - 1) / free));
            var batch = sameLevel.Take(take).ToList();
            foreach (var u in batch) todo.Remove(u);
            batches.Add(batch);
            free--;
        }
        return batches;
    }
}
