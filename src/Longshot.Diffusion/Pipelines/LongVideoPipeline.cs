using Longshot.Diffusion.Clips;
using Longshot.Diffusion.Vae;
using Longshot.Distributed;
using Longshot.Tensors;
using Longshot.Tensors.Devices;
using Longshot.Tensors.Kernels;

namespace Longshot.Diffusion.Pipelines;

/// <summary>
/// Makes long videos from a storyline with a global and a local Mask Temporal Diffusion model and a T-KLVAE, by any
/// <see cref="GenerationScheme"/>. Diffusion over diffusion (NUWA-XL section 3.3): the global MTD draws L keyframes
/// over the hierarchy's span (<see cref="DodSchedule"/>), then at each level the local MTD fills every gap between
/// neighbouring frames, all gaps of
/// a level as independent units. Every unit draws its noise from a seed derived from (run seed, level, index), so the
/// video does not depend on batching or worker count. The autoregressive baseline runs the same local model unit
/// after unit.
/// </summary>
public sealed class LongVideoPipeline
{
    private readonly MtdSampler _global, _local;
    private readonly int _channels, _size;

    /// <summary>The VAE that decodes the latents.</summary>
    public AutoencoderKL Vae { get; }

    /// <summary>A pipeline over loaded models; latents are <paramref name="latentSize"/> square (default: the
    /// VAE's).</summary>
    public LongVideoPipeline(MtdPipelineParts global, MtdPipelineParts local, AutoencoderKL vae, int? latentSize = null)
    {
        Vae = vae;
        int size = latentSize ?? vae.LatentSize;
        _channels = vae.Config.LatentChannels; _size = size;
        _global = new MtdSampler(global, vae.Config.LatentChannels, size, size);
        _local = new MtdSampler(local, vae.Config.LatentChannels, size, size);
    }

    /// <summary>Loads the models from their folders (diffusers layout: model_index.json, unet/, ...).</summary>
    public static LongVideoPipeline Load(string global, string local, string vae) =>
        new(MtdPipelineParts.Load(global), MtdPipelineParts.Load(local), AutoencoderKL.Load(vae));

    /// <summary>Loads the checkpoints shipped in models/.</summary>
    public static LongVideoPipeline LoadShipped() =>
        Load(ShippedModels.Global(), ShippedModels.Local(), ShippedModels.Vae());

    /// <summary>
    /// Units sampled together per model call. On a CPU one is fastest (bigger activations leave the core's cache;
    /// the batch sweep is in docs/performance.md, "Generation"). Batches pay off where a call has fixed costs to
    /// share (a GPU).
    /// </summary>
    public int BatchSize { get; set; } = DefaultBatchSize;

    /// <summary>
    /// The ranks of an MPI job that sample diffusion-over-diffusion units: this process (rank 0) schedules, saves and
    /// decodes, and every other rank runs <see cref="Distributed.RankWorker.Serve"/>. Null or one rank: the units
    /// are sampled on this process's cores. The video is the same either way.
    /// </summary>
    public ICommunicator? Ranks { get; set; }

    /// <summary>
    /// Told, on the calling thread, about every diffusion-over-diffusion unit as soon as its latents exist (sampled, or
    /// loaded from the run folder): a live view can show the global keyframes long before their frames are decoded.
    /// </summary>
    public Action<WorkUnit, Tensor>? UnitFinished { get; set; }

    /// <summary>Told about recoverable problems, such as a damaged unit file that will be recomputed.</summary>
    public Action<string>? Warning { get; set; }

    /// <summary>The default <see cref="BatchSize"/>.</summary>
    public const int DefaultBatchSize = 1;

    /// <summary>
    /// Batches of one level sampled side by side, each on its share of the kernel threads (default: one per core).
    /// Units of a level are independent, so this is where diffusion over diffusion beats the autoregressive chain
    /// on a multi-core CPU; the result does not depend on it.
    /// </summary>
    public int Workers { get; set; } = Threads.Count;

    /// <summary>What <paramref name="r"/> computes, level by level (the schedule its scheme runs).</summary>
    public static GenerationPlan Plan(GenerationRequest r) => r.Scheme switch
    {
        GenerationScheme.DiffusionOverDiffusion => GenerationPlan.Of(r.Schedule()),
        GenerationScheme.Autoregressive => GenerationPlan.Of(new AutoregressiveSchedule(r.Frames, r.Length)),
        GenerationScheme.ClipParallel => GenerationPlan.Of(new ClipLayout(r.Frames, r.Clips.ClipFrames,
            r.Clips.GlobalFrames)),
        GenerationScheme.Extended => GenerationPlan.Single(r.Scheme, r.Frames),
        _ => throw new ArgumentOutOfRangeException(nameof(r)),
    };

    /// <summary>
    /// Latents of frames [0, N), scaled as the diffusion models see them. With a run folder, every finished DoD unit
    /// is saved there (atomically) and a rerun of the same request loads them instead of recomputing: a killed run
    /// continues where it stopped and produces the identical video.
    /// </summary>
    public Dictionary<int, Tensor> GenerateLatents(GenerationRequest r, IProgress<GenerationProgress>? progress = null,
        CancellationToken ct = default)
    {
        var known = new Dictionary<int, Tensor>();
        foreach (var _ in Run(r.Validate(), known, progress, ct)) { }
        return known;
    }

    /// <summary>
    /// Only the global model's keyframes of a DoD request (level 1 of its schedule), exactly as a full run of the same
    /// request samples them: a quick look at whether a story's keyframes carry it, since the levels below keep what
    /// the keyframes show.
    /// </summary>
    public Dictionary<int, Tensor> GenerateKeyframes(GenerationRequest r, CancellationToken ct = default)
    {
        r.Validate();
        if (r.Scheme != GenerationScheme.DiffusionOverDiffusion)
            throw new LongshotException($"keyframes: only the dod scheme has global keyframes, not {r.Scheme.Name()}.");
        CheckUnitLength(r.Length);
        var known = new Dictionary<int, Tensor>();
        var units = r.Schedule().Levels[0].ToList();
        var outs = SampleBatch(r, units, known, ct);
        for (int i = 0; i < units.Count; i++) Record(units[i], outs[i], known);
        return known;
    }

    /// <summary>
    /// Generates and decodes, yielding frames [3, H, W] in [-1, 1] in order as soon as the units and tiles covering
    /// them are done: the first frames arrive while the last level is still being sampled.
    /// </summary>
    public IEnumerable<Tensor> GenerateFrames(GenerationRequest r, IProgress<GenerationProgress>? progress = null,
        CancellationToken ct = default)
    {
        r.Validate();
        var known = new Dictionary<int, Tensor>();
        var decoder = new ChunkedDecoder(ChunkedVideoCodec.ForGeneration(Vae), r.Frames);
        int prefix = 0;
        foreach (var _ in Run(r, known, progress, ct))
        {
            while (prefix < r.Frames && known.ContainsKey(prefix)) prefix++;
            foreach (var frame in decoder.Advance(Unscaled(known), prefix, ct)) yield return frame;
        }
        foreach (var frame in decoder.Advance(Unscaled(known), r.Frames, ct)) yield return frame;
    }

    /// <summary>Decodes latents of frames [0, N) in order with the chunked T-KLVAE (bounded memory), as [3, H, W] in
    /// [-1, 1].</summary>
    public IEnumerable<Tensor> Decode(Dictionary<int, Tensor> latents, int frames, CancellationToken ct = default) =>
        new ChunkedDecoder(ChunkedVideoCodec.ForGeneration(Vae), frames).Advance(Unscaled(latents), frames, ct);

    /// <summary>Frames [s, s + n) of the latents, unscaled for the decoder, as [n, c, h, w].</summary>
    private Func<int, int, Tensor> Unscaled(Dictionary<int, Tensor> known) =>
        (s, n) => Vae.UnscaleLatents(Ops.Stack(Enumerable.Range(s, n).Select(f => known[f]).ToList(), 0));

    /// <summary>Runs the request's scheme, filling <paramref name="known"/>; yields after every finished
    /// batch.</summary>
    private IEnumerable<int> Run(GenerationRequest r, Dictionary<int, Tensor> known,
        IProgress<GenerationProgress>? progress, CancellationToken ct)
    {
        if (Device != Device.Cpu && r.Scheme == GenerationScheme.ClipParallel)
            throw new LongshotException($"--device {Device}: the clips scheme samples on the CPU only (use --device " +
                "cpu).");
        if (Device != Device.Cpu && Ranks is { Size: > 1 })
            throw new LongshotException($"--device {Device}: MPI ranks sample on their CPUs; run one process for a " +
                "device.");
        return RunScheme(r, known, progress, ct);
    }

    private IEnumerable<int> RunScheme(GenerationRequest r, Dictionary<int, Tensor> known,
        IProgress<GenerationProgress>? progress, CancellationToken ct) => r.Scheme switch
    {
        GenerationScheme.DiffusionOverDiffusion => RunDod(r, known, progress, ct, Ranks),
        GenerationScheme.Autoregressive => RunAutoregressive(r, known, progress, ct),
        GenerationScheme.ClipParallel => RunClips(r, known, progress, ct),
        GenerationScheme.Extended => RunExtended(r, known, progress, ct),
        _ => throw new ArgumentOutOfRangeException(nameof(r)),
    };

    private MtdSampler? _extended;

    /// <summary>Refuses an L other than the one the global and local models were trained for (when their configs
    /// record it), or past an ExVideo-extended model's position tables.</summary>
    private void CheckUnitLength(int length)
    {
        foreach (var (model, which) in new[] { (_global, "global"), (_local, "local") })
        {
            CheckTables(model, length, $"length (L) {length}: the {which} model");
            if (model.Parts.Unet.Config.NumFrames is { } trained && trained != length)
                throw new LongshotException($"length (L) {length}: the {which} model was trained for L = {trained} " +
                    $"(--length {trained}).");
        }
    }

    /// <summary>Refuses more frames per model call than an ExVideo-extended model's position tables hold.</summary>
    private static void CheckTables(MtdSampler model, int frames, string subject)
    {
        if (model.Parts.Unet.Config.FramePositionTable is > 0 and var rows && frames > rows)
            throw new LongshotException($"{subject} draws at most {rows} frames at once (its position tables end " +
                $"there); asked for {frames}.");
    }

    /// <summary>
    /// The long-context image-to-video model of the extended scheme (an ExVideo-extended model, or any model that
    /// takes the first frame given, e.g. the base model it was extended from). Null until set.
    /// </summary>
    public MtdPipelineParts? Extended
    {
        get => _extended?.Parts;
        set
        {
            value?.ToDevice(Device);
            _extended = value == null ? null : new MtdSampler(value, _channels, _size, _size);
        }
    }

    /// <summary>Where the diffusion models sample (<see cref="ToDevice"/>); the VAE decodes on the host.</summary>
    public Device Device => _global.Parts.Device;

    /// <summary>Units per model call on a device (<see cref="ToDevice"/>): every ready unit of a level, up to this.
    /// </summary>
    public const int DeviceBatchSize = 64;

    /// <summary>
    /// Samples on <paramref name="device"/>: the global, local (and extended) models' parameters move there, and
    /// every ready unit of a level goes into one model call of at most <paramref name="batchSize"/> units, one call at
    /// a time (the batch a CPU does not want; a device runs one stream). Same seeds, same units: results agree with
    /// the CPU's within float tolerance. The clips scheme and MPI ranks stay on the CPU.
    /// </summary>
    public void ToDevice(Device device, int batchSize = DeviceBatchSize)
    {
        _global.Parts.ToDevice(device);
        _local.Parts.ToDevice(device);
        _extended?.Parts.ToDevice(device);
        if (device == Device.Cpu) return;
        Workers = 1;
        BatchSize = batchSize;
    }

    /// <summary>
    /// ExVideo's scheme: the first frame (the request's image, encoded; else frame 0 of a 16-frame clip the global
    /// model draws), then every frame in one pass of the extended model with that frame given.
    /// </summary>
    private IEnumerable<int> RunExtended(GenerationRequest r, Dictionary<int, Tensor> known,
        IProgress<GenerationProgress>? progress, CancellationToken ct)
    {
        var sampler = _extended ?? throw new LongshotException("the extended scheme needs an extended model " +
            "(--extended DIR; `longshot train extend` makes one).");
        CheckTables(sampler, r.Frames, "the extended model");
        Tensor first;
        if (r.FirstFrame is { } image)
        {
            int size = Vae.Config.SampleSize;
            if (image.Rank != 3 || image.Shape[0] != 3 || image.Shape[1] != size || image.Shape[2] != size)
                throw new LongshotException($"the initial image must be {size} x {size} RGB (the VAE's frame size).");
            using var _ = Tensor.NoGrad();
            first = Vae.ScaleLatents(Vae.Encode(image.Unsqueeze(0)).Mean).Squeeze(0).Contiguous();
        }
        else
        {
            int n = Math.Min(16, r.Frames);
            var clip = new MtdClip(Enumerable.Range(0, n).ToArray(), Enumerable.Range(0, n).Select(r.Story.PromptAt)
                .ToArray(), new Tensor?[n], new Rng(r.Seed).Derive(1, 0));
            first = _global.Sample(new[] { clip }, r.Sampler.ForGlobal(), ct)[0].Narrow(0, 0, 1).Squeeze(0)
                .Contiguous();
        }
        var given = new Tensor?[r.Frames];
        given[0] = first;
        var whole = new MtdClip(Enumerable.Range(0, r.Frames).ToArray(), Enumerable.Range(0, r.Frames)
            .Select(r.Story.PromptAt).ToArray(), given,
            new Rng(r.Seed).Derive(2, 0));
        var latents = sampler.Sample(new[] { whole }, r.Sampler, ct)[0];
        for (int f = 0; f < r.Frames; f++) known[f] = latents.Narrow(0, f, 1).Squeeze(0).Contiguous();
        progress?.Report(new GenerationProgress(1, 1, 1, 1, 1, 1));
        yield return 0;
    }

    /// <summary>Bytes the clips of the last clip-parallel generation on this process received from other clips (the
    /// exchange volume); null before one ran.</summary>
    public long? LastClipExchangeBytes { get; private set; }

    /// <summary>
    /// Clip parallelism (Video-Infinity) with the global model, a short-video model over consecutive frames: on this
    /// process's threads, or over <see cref="Ranks"/> when set (every rank runs it with its share of the clips).
    /// </summary>
    private IEnumerable<int> RunClips(GenerationRequest r, Dictionary<int, Tensor> known,
        IProgress<GenerationProgress>? progress, CancellationToken ct)
    {
        var (latents, bytes) = new ClipRun(_global, _channels, _size, _size)
            .Run(r, Ranks ?? new SingleProcessCommunicator(), progress, Warning, ct);
        for (int f = 0; f < latents.Length; f++) known[f] = latents[f];
        LastClipExchangeBytes = bytes;
        yield return 0;
    }

    /// <summary>
    /// Diffusion over diffusion. Batches start as soon as their units' given frames exist, not level by level: a
    /// level-3 gap can be filled while other level-2 units are still being sampled, so no worker waits at a level
    /// boundary or behind a slower batch.
    /// </summary>
    private IEnumerable<int> RunDod(GenerationRequest r, Dictionary<int, Tensor> known,
        IProgress<GenerationProgress>? progress, CancellationToken ct, ICommunicator? ranks = null)
    {
        CheckUnitLength(r.Length);
        var schedule = r.Schedule();
        using var run = r.RunDir != null ? UnitStore.Open(r.RunDir, r.Identity) : null;
        int levels = schedule.Levels.Count, total = schedule.Levels.Sum(l => l.Count);
        var done = new int[levels];
        var todo = new List<WorkUnit>();
        foreach (var u in schedule.Units)
        {
            if (run?.TryLoad(u, UnitShape(u)) is { } saved)
            {
                Record(u, saved, known);
                done[u.Level - 1]++;
                UnitFinished?.Invoke(u, saved);
            }
            else todo.Add(u);
        }
        foreach (var damaged in run?.Damaged ?? new List<string>()) Warning?.Invoke(damaged);
        yield return 0;
        using IUnitRunner runner = ranks is { Size: > 1 }
            ? new Distributed.RankUnitRunner(ranks, known, schedule, UnitShape,
                new ThreadUnitRunner(1, (batch, token) => SampleBatch(r, batch, known, token), ct))
            : new ThreadUnitRunner(Math.Clamp(Workers, 1, Math.Max(1, Threads.Count)),
                (batch, token) => SampleBatch(r, batch, known, token), ct);
        void StartBatches()
        {
            var batches = NextBatches(todo, known.ContainsKey, runner.Capacity - runner.Running, runner.Capacity,
                BatchSize);
            bool alone = runner.Running + batches.Count == 1;
            foreach (var batch in batches) runner.Start(batch, alone);
        }
        StartBatches();
        while (runner.Running > 0)
        {
            var (units, outs) = runner.WaitAny(ct);
            for (int j = 0; j < units.Count; j++)
            {
                Record(units[j], outs[j], known);
                run?.Save(units[j], outs[j]);
                UnitFinished?.Invoke(units[j], outs[j]);
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

    /// <summary>Samples one batch of units of <paramref name="r"/> whose given frames are in <paramref
    /// name="known"/>.</summary>
    internal List<Tensor> SampleBatch(GenerationRequest r, List<WorkUnit> batch, Dictionary<int, Tensor> known,
        CancellationToken ct)
    {
        // Workers read the known frames while the caller's thread records finished units into them (Record locks).
        List<MtdClip> clips;
        lock (known) clips = batch.Select(u => ToClip(u, r.Story, known, r.Seed)).ToList();
        return (batch[0].IsGlobal ? _global : _local).Sample(clips, SamplerFor(r, batch[0]), ct);
    }

    /// <summary>The autoregressive baseline: the same models, one unit after another.</summary>
    private IEnumerable<int> RunAutoregressive(GenerationRequest r, Dictionary<int, Tensor> known,
        IProgress<GenerationProgress>? progress, CancellationToken ct)
    {
        CheckUnitLength(r.Length);
        var schedule = new AutoregressiveSchedule(r.Frames, r.Length);
        for (int i = 0; i < schedule.Units.Count; i++)
        {
            var u = schedule.Units[i];
            var outs = (u.IsGlobal ? _global : _local)
                .Sample(new[] { ToClip(u, r.Story, known, r.Seed) }, SamplerFor(r, u), ct);
            Record(u, outs[0], known);
            progress?.Report(new GenerationProgress(1, 1, i + 1, schedule.Units.Count, i + 1, schedule.Units.Count));
            yield return 0;
        }
    }

    /// <summary>
    /// Batches to start on <paramref name="free"/> idle workers: units whose given frames are all known, coarsest level
    /// first (they unlock the most work), of one spacing, at most <see cref="BatchSize"/> each. Near the end the
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

    /// <summary>The latents of a finished run of <paramref name="r"/> (its <see
    /// cref="GenerationRequest.RunDir"/>).</summary>
    public Dictionary<int, Tensor> LoadRun(GenerationRequest r)
    {
        RequireHierarchy(r);
        if (r.RunDir == null)
            throw new LongshotException("the run folder of the original generation is needed (--run).");
        if (!Directory.Exists(r.RunDir)) throw new LongshotException($"run folder not found: {r.RunDir}");
        using var run = UnitStore.Open(r.RunDir, r.Identity);
        var known = new Dictionary<int, Tensor>();
        foreach (var u in r.Schedule().Units)
            Record(u, run.TryLoad(u, UnitShape(u)) ?? throw new LongshotException(
                $"{r.RunDir}: unit {u.Index} of level {u.Level} is missing; finish the run first (rerun generate " +
                    $"with --run)."),
                known);
        return known;
    }

    /// <summary>
    /// Local regeneration: redraws frames [from, to) of an existing video (its latents) with the storyline and seed of
    /// <paramref name="redraw"/>, recomputing only the units under the range. The range is widened to whole
    /// finest-level gaps; a coarser unit is redrawn only when everything it generates lies inside that range, and a
    /// unit whose given frames were redrawn is redrawn too. Latents outside the returned [Lo, Hi) stay identical;
    /// <see cref="DecodeRegeneration"/> keeps the decoded frames outside it identical too.
    /// </summary>
    public Regeneration Regenerate(Dictionary<int, Tensor> latents, GenerationRequest redraw, int from, int to,
        CancellationToken ct = default)
    {
        RequireHierarchy(redraw);
        int frames = redraw.Frames;
        if (from < 0 || to > frames || from >= to)
            throw new LongshotException($"regenerate: range {from}-{to} is not inside the video's {frames} frames.");
        var schedule = redraw.Schedule();
        if (schedule.Levels.Count < 2)
            throw new LongshotException("regenerate: a video made by the global model alone has no local units to " +
                "redraw.");
        // The finest units are those that reach consecutive frames (at the last level, or earlier where a gap was
        // already shorter than L).
        static bool Finest(WorkUnit u) => u.Positions.Zip(u.Positions.Skip(1), (a, b) => b - a).All(d => d == 1);
        var finest = schedule.Levels.Skip(1).SelectMany(l => l)
            .Where(u => Finest(u) && u.Generates.Any(p => p >= from && p < to)).ToList();
        var widened = finest.SelectMany(u => u.Generates).Append(from).Append(to - 1).ToList();
        int lo = widened.Min(), hi = widened.Max() + 1;
        var known = new Dictionary<int, Tensor>(latents);
        var redrawn = new HashSet<int>();
        for (int k = 1; k < schedule.Levels.Count; k++)
        {
            var units = schedule.Levels[k].Where(u =>
                u.Positions.Where((_, i) => u.Given[i]).Any(redrawn.Contains)
                || (Finest(u) ? finest.Contains(u) : u.Generates.All(p => p >= lo && p < hi)))
                    .ToList();
            foreach (var batch in units.GroupBy(u => u.Spacing).SelectMany(g => g.Chunk(BatchSize))
                .Select(c => c.ToList()))
            {
                var outs = _local.Sample(batch.Select(u => ToClip(u, redraw.Story, known, redraw.Seed)).ToList(),
                    redraw.Sampler, ct);
                for (int i = 0; i < batch.Count; i++)
                {
                    Record(batch[i], outs[i], known);
                    foreach (var p in batch[i].Generates) redrawn.Add(p);
                }
            }
        }
        // Units can redraw frames past the range (a coarser unit's given frame): report the whole span changed.
        var changed = redrawn.Where(p => p < frames).ToList();
        if (changed.Count > 0) { lo = Math.Min(lo, changed.Min()); hi = Math.Max(hi, changed.Max() + 1); }
        return new Regeneration(latents, known, frames, lo, hi);
    }

    /// <summary>
    /// The frames of a regenerated video: outside [Lo, Hi) exactly the frames the original latents decode to, inside
    /// it the new latents decoded with every tile that covers the range, so no frame outside it changes by a bit.
    /// </summary>
    public IEnumerable<Tensor> DecodeRegeneration(Regeneration g, CancellationToken ct = default)
    {
        var codec = ChunkedVideoCodec.ForGeneration(Vae);
        var inside = codec.DecodeRange(Unscaled(g.Latents), g.Frames, g.Lo, g.Hi, ct);
        int f = 0;
        foreach (var frame in Decode(g.Original, g.Frames, ct))
        {
            yield return f >= g.Lo && f < g.Hi ? inside[f - g.Lo] : frame;
            f++;
        }
    }

    /// <summary>Validates a request whose run is redrawn: only diffusion over diffusion keeps units to
    /// redraw.</summary>
    private static void RequireHierarchy(GenerationRequest r)
    {
        r.Validate();
        if (r.Scheme != GenerationScheme.DiffusionOverDiffusion)
            throw new LongshotException("a range can be redrawn (--regenerate) only in a diffusion-over-diffusion " +
                "run (--scheme dod).");
    }

    internal int[] UnitShape(WorkUnit u) => new[] { u.Positions.Length, _channels, _size, _size };

    /// <summary>Writes a finished unit's frames into <paramref name="known"/>, locked: sampling workers read it
    /// (<see cref="SampleBatch"/>) while the caller's thread records, and a Dictionary must not be read while it is
    /// written.</summary>
    private static void Record(WorkUnit u, Tensor latents, Dictionary<int, Tensor> known)
    {
        lock (known)
            for (int f = 0; f < u.Positions.Length; f++)
                if (!u.Given[f]) known[u.Positions[f]] = latents.Narrow(0, f, 1).Squeeze(0).Contiguous();
    }

    /// <summary>The settings unit <paramref name="u"/> is sampled with: the global model's own steps for its
    /// units.</summary>
    private static SamplerOptions SamplerFor(GenerationRequest r, WorkUnit u) =>
        u.IsGlobal ? r.Sampler.ForGlobal() : r.Sampler;

    private static MtdClip ToClip(WorkUnit u, Storyline story, Dictionary<int, Tensor> known, ulong seed)
    {
        var given = u.Positions.Select((p, i) => u.Given[i] ? known[p] : null).ToArray();
        var prompts = u.Positions.Select(story.PromptAt).ToArray();
        return new MtdClip(u.Positions, prompts, given, new Rng(seed).Derive((ulong)u.Level, (ulong)u.Index));
    }
}

/// <summary>A redrawn range: the original latents, the new ones, and the frames [Lo, Hi) that changed.</summary>
public sealed record Regeneration(Dictionary<int, Tensor> Original, Dictionary<int, Tensor> Latents, int Frames,
    int Lo, int Hi);
