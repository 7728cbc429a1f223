using Longshot.Diffusion.Training;
using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Longshot.Tensors.Kernels;

namespace Longshot.Diffusion.Pipelines;

/// <summary>Progress of a generation: the level and units done in it.</summary>
/// <param name="Level">Level (1 = global) of the batch that just finished.</param>
/// <param name="UnitsDone">Units of that level done so far, of <paramref name="Units"/>.</param>
/// <param name="AllDone">Units of every level done so far, of <paramref name="AllUnits"/>: levels overlap, so this is the one to show.</param>
public sealed record GenerationProgress(int Level, int Levels, int UnitsDone, int Units, int AllDone, int AllUnits);

/// <summary>
/// Diffusion over diffusion (NUWA-XL section 3.3): the global MTD draws L keyframes for the whole storyline, then at
/// each level the local MTD fills every gap between neighbouring frames, all gaps of a level as independent units
/// batched together. Every unit draws its noise from a seed derived from (run seed, level, index), so the video does
/// not depend on the batch size. The AR baseline runs the same local model unit after unit.
/// </summary>
public sealed class DodPipeline(MtdPipelineParts global, MtdPipelineParts local, AutoencoderKL vae, int latentHeight, int latentWidth)
{
    private readonly MtdSampler _global = new(global, vae.Config.LatentChannels, latentHeight, latentWidth);
    private readonly MtdSampler _local = new(local, vae.Config.LatentChannels, latentHeight, latentWidth);

    /// <summary>
    /// Units sampled together per model call. On a CPU one is fastest: a unit on one core took 2.50 s alone, 2.64 s
    /// batched by two and 2.84 s by four (bigger activations leave the core's cache), and the 1,024-frame demo
    /// diffused in 106 s, 118 s and 128 s. Batches pay off where a call has fixed costs to share (a GPU).
    /// </summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>The default <see cref="BatchSize"/>.</summary>
    public const int DefaultBatchSize = 1;

    /// <summary>
    /// Batches of one level sampled side by side, each on its share of the kernel threads (default: one per core).
    /// Units of a level are independent, so this is where diffusion over diffusion beats the autoregressive chain
    /// on a multi-core CPU; the result does not depend on it.
    /// </summary>
    public int Workers { get; init; } = Threads.Count;

    /// <summary>
    /// Latents of frames [0, N) by diffusion over diffusion. With <paramref name="runDir"/>, every finished unit is
    /// saved there (atomically) and a rerun with the same settings loads them instead of recomputing: a killed run
    /// continues where it stopped and produces the identical video.
    /// </summary>
    public Dictionary<int, Tensor> GenerateLatents(Storyline story, int frames, int length, ulong seed, SamplerOptions o,
        IProgress<GenerationProgress>? progress = null, CancellationToken ct = default, string? runDir = null)
    {
        var known = new Dictionary<int, Tensor>();
        foreach (var _ in Run(story, frames, length, seed, o, known, progress, ct, runDir)) { }
        return known;
    }

    /// <summary>
    /// Generates and decodes, yielding frames [3, H, W] in order as soon as the units and tiles covering them are
    /// done: the first frames arrive while the last level is still being sampled.
    /// </summary>
    public IEnumerable<Tensor> GenerateFrames(Storyline story, int frames, int length, ulong seed, SamplerOptions o,
        IProgress<GenerationProgress>? progress = null, CancellationToken ct = default, string? runDir = null)
    {
        var known = new Dictionary<int, Tensor>();
        var decoder = new ChunkedDecoder(ChunkedVideoCodec.ForGeneration(vae), frames);
        float inv = 1f / vae.Config.ScalingFactor;
        Tensor Latents(int s, int n) => Ops.Stack(Enumerable.Range(s, n).Select(f => known[f]).ToList(), 0) * inv;
        int prefix = 0;
        foreach (var _ in Run(story, frames, length, seed, o, known, progress, ct, runDir))
        {
            while (prefix < frames && known.ContainsKey(prefix)) prefix++;
            foreach (var frame in decoder.Advance(Latents, prefix, ct)) yield return frame;
        }
        foreach (var frame in decoder.Advance(Latents, frames, ct)) yield return frame;
    }

    /// <summary>
    /// Runs the schedule, filling <paramref name="known"/>; yields after every finished batch. Batches start as soon as
    /// their units' given frames exist, not level by level: a level-3 gap can be filled while other level-2 units are
    /// still being sampled, so no worker waits at a level boundary or behind a slower batch.
    /// </summary>
    private IEnumerable<int> Run(Storyline story, int frames, int length, ulong seed, SamplerOptions o, Dictionary<int, Tensor> known,
        IProgress<GenerationProgress>? progress, CancellationToken ct, string? runDir)
    {
        var schedule = new DodSchedule(frames, length);
        var run = runDir != null ? UnitStore.Open(runDir, RunIdentity(story, frames, length, seed, o, "dod")) : null;
        int levels = schedule.Levels.Count, total = schedule.Levels.Sum(l => l.Count);
        var done = new int[levels];
        var todo = new List<WorkUnit>();
        foreach (var u in schedule.Units)
        {
            if (run?.TryLoad(u) is { } saved) { Record(u, saved, known); done[u.Level - 1]++; }
            else todo.Add(u);
        }
        yield return 0;
        int workers = Math.Clamp(Workers, 1, Math.Max(1, Threads.Count));
        var running = new List<(Task<List<Tensor>> Task, List<WorkUnit> Units)>();
        try
        {
            void StartBatches()
            {
                var batches = NextBatches(todo, known.ContainsKey, workers - running.Count, workers, BatchSize);
                // A batch that runs alone (the global unit) runs here on every thread (from a pool thread its kernels'
                // own parallel loops ran ~10% slower); side by side, each gets its share of the threads.
                bool alone = running.Count + batches.Count == 1;
                int share = Math.Max(1, Threads.Count / workers);
                foreach (var batch in batches)
                {
                    var sampler = batch[0].IsGlobal ? _global : _local;
                    var clips = batch.Select(u => ToClip(u, story, known, seed)).ToList();
                    running.Add((alone
                        ? Task.FromResult(sampler.Sample(clips, o, ct))
                        : Task.Run(() =>
                        {
                            using var _ = Threads.LimitTo(share);
                            return sampler.Sample(clips, o, ct);
                        }), batch));
                }
            }
            StartBatches();
            while (running.Count > 0)
            {
                int i = Task.WaitAny(running.Select(r => (Task)r.Task).ToArray());
                var (task, units) = running[i];
                running.RemoveAt(i);
                var outs = task.GetAwaiter().GetResult();
                for (int j = 0; j < units.Count; j++)
                {
                    Record(units[j], outs[j], known);
                    run?.Save(units[j], outs[j]);
                }
                int level = units[0].Level;
                done[level - 1] += units.Count;
                progress?.Report(new GenerationProgress(level, levels, done[level - 1], schedule.Levels[level - 1].Count, done.Sum(), total));
                // Refill the workers before yielding, so they keep sampling while the caller decodes finished frames.
                StartBatches();
                yield return 0;
            }
            if (todo.Count > 0) throw new InvalidOperationException($"DoD: {todo.Count} units were never ready; the schedule is inconsistent.");
        }
        finally
        {
            // Cancelled or failed: let the batches still sampling stop before returning, so nothing runs on unseen.
            try { Task.WaitAll(running.Select(r => (Task)r.Task).ToArray()); } catch (AggregateException) { }
        }
    }

    /// <summary>
    /// Batches to start on <paramref name="free"/> idle workers: units whose given frames are all known, coarsest level
    /// first (they unlock the most work), at most <see cref="BatchSize"/> each. Near the end the remaining units are
    /// spread over all workers (5 left on 2 workers: 3 + 2, not 4 + 1), since a batch lasts as long as its size.
    /// Started units are removed from <paramref name="todo"/>.
    /// </summary>
    internal static List<List<WorkUnit>> NextBatches(List<WorkUnit> todo, Func<int, bool> known, int free, int workers, int batchSize)
    {
        var batches = new List<List<WorkUnit>>();
        int fairShare = (todo.Count + workers - 1) / workers;
        while (free > 0 && todo.Count > 0)
        {
            var ready = todo.Where(u => u.Positions.Where((_, f) => u.Given[f]).All(known)).ToList();
            if (ready.Count == 0) break;
            int level = ready.Min(u => u.Level);
            var sameLevel = ready.Where(u => u.Level == level).ToList();
            int take = Math.Min(sameLevel.Count, Math.Min(batchSize, fairShare));
            take = Math.Max(1, Math.Min(take, (sameLevel.Count + free - 1) / free));
            var batch = sameLevel.Take(take).ToList();
            foreach (var u in batch) todo.Remove(u);
            batches.Add(batch);
            free--;
        }
        return batches;
    }

    /// <summary>The latents of a finished run saved with <c>runDir</c> (same settings as when it was made).</summary>
    public Dictionary<int, Tensor> LoadRun(string runDir, Storyline story, int frames, int length, ulong seed, SamplerOptions o)
    {
        if (!Directory.Exists(runDir)) throw new DirectoryNotFoundException($"run folder not found: {runDir}");
        var run = UnitStore.Open(runDir, RunIdentity(story, frames, length, seed, o, "dod"));
        var known = new Dictionary<int, Tensor>();
        foreach (var u in new DodSchedule(frames, length).Units)
            Record(u, run.TryLoad(u) ?? throw new IOException($"{runDir}: unit {u.Index} of level {u.Level} is missing; finish the run first (rerun generate with --run)."), known);
        return known;
    }

    /// <summary>
    /// Local regeneration: redraws frames [from, to) of an existing video (its latents) with a new storyline and/or
    /// seed, recomputing only the units under the range. The range is widened to whole finest-level gaps
    /// (returned as [Lo, Hi)); a coarser unit is redrawn only when everything it generates lies inside that range,
    /// and a unit whose given frames were redrawn is redrawn too. Every frame outside [Lo, Hi) stays identical.
    /// </summary>
    public (Dictionary<int, Tensor> Latents, int Lo, int Hi) Regenerate(Dictionary<int, Tensor> latents, Storyline story, int frames, int length,
        ulong seed, SamplerOptions o, int from, int to, CancellationToken ct = default)
    {
        if (from < 0 || to > frames || from >= to) throw new ArgumentException($"regenerate: range [{from}, {to}) is not inside the video's {frames} frames.");
        var schedule = new DodSchedule(frames, length);
        if (schedule.Levels.Count < 2) throw new ArgumentException("regenerate: a video made by the global model alone has no local units to redraw.");
        var finest = schedule.Levels[^1].Where(u => u.Generates.Any(p => p >= from && p < to)).ToList();
        int lo = finest.SelectMany(u => u.Generates).Min(), hi = finest.SelectMany(u => u.Generates).Max() + 1;
        lo = Math.Min(lo, from); hi = Math.Max(hi, to);
        var known = new Dictionary<int, Tensor>(latents);
        var redrawn = new HashSet<int>();
        for (int k = 1; k < schedule.Levels.Count; k++)
        {
            var units = schedule.Levels[k].Where(u =>
                u.Positions.Where((_, i) => u.Given[i]).Any(redrawn.Contains)
                || (k == schedule.Levels.Count - 1 ? finest.Contains(u) : u.Generates.All(p => p >= lo && p < hi))).ToList();
            for (int s = 0; s < units.Count; s += BatchSize)
            {
                var batch = units.Skip(s).Take(BatchSize).ToList();
                var outs = _local.Sample(batch.Select(u => ToClip(u, story, known, seed)).ToList(), o, ct);
                for (int i = 0; i < batch.Count; i++)
                {
                    Record(batch[i], outs[i], known);
                    foreach (var p in batch[i].Generates) redrawn.Add(p);
                }
            }
        }
        return (known, lo, hi);
    }

    private static void Record(WorkUnit u, Tensor latents, Dictionary<int, Tensor> known)
    {
        for (int f = 0; f < u.Positions.Length; f++)
            if (!u.Given[f]) known[u.Positions[f]] = latents.Narrow(0, f, 1).Squeeze(0).Contiguous();
    }

    private static string RunIdentity(Storyline story, int frames, int length, ulong seed, SamplerOptions o, string scheme) =>
        $"{scheme}|{frames}|{length}|{seed}|{o}|" + string.Join("\n", story.Segments.Select(x => $"{x.Start}-{x.End}:{x.Prompt}"));

    /// <summary>Latents of frames [0, N) by the autoregressive baseline (same models, one unit at a time).</summary>
    public Dictionary<int, Tensor> GenerateLatentsAutoregressive(Storyline story, int frames, int length, ulong seed, SamplerOptions o,
        IProgress<GenerationProgress>? progress = null, CancellationToken ct = default)
    {
        var schedule = new AutoregressiveSchedule(frames, length);
        var known = new Dictionary<int, Tensor>();
        for (int i = 0; i < schedule.Units.Count; i++)
        {
            var u = schedule.Units[i];
            var outs = (u.IsGlobal ? _global : _local).Sample(new[] { ToClip(u, story, known, seed) }, o, ct);
            for (int f = 0; f < u.Positions.Length; f++)
                if (!u.Given[f]) known[u.Positions[f]] = outs[0].Narrow(0, f, 1).Squeeze(0).Contiguous();
            progress?.Report(new GenerationProgress(1, 1, i + 1, schedule.Units.Count, i + 1, schedule.Units.Count));
        }
        return known;
    }

    private static MtdClip ToClip(WorkUnit u, Storyline story, Dictionary<int, Tensor> known, ulong seed)
    {
        var given = u.Positions.Select((p, i) => u.Given[i] ? known[p] : null).ToArray();
        var prompts = u.Positions.Select(p => story.PromptAt(Math.Min(p, story.Frames - 1))).ToArray();
        return new MtdClip(u.Positions, prompts, given, new Rng(seed).Derive((ulong)u.Level, (ulong)u.Index));
    }

    /// <summary>Decodes latents of frames [0, N) in order with the chunked T-KLVAE (bounded memory), as [3, H, W] in [-1, 1].</summary>
    public IEnumerable<Tensor> Decode(Dictionary<int, Tensor> latents, int frames, CancellationToken ct = default)
    {
        var z = Ops.Stack(Enumerable.Range(0, frames).Select(f => latents[f]).ToList(), 0) * (1f / vae.Config.ScalingFactor);
        return ChunkedVideoCodec.ForGeneration(vae).Decode(z, ct);
    }
}
