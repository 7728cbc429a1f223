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
    public static GenerationPlan Plan(GenerationRequest r) => r.Scheme.Plan(r);

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
        if (Device != Device.Cpu && !r.Scheme.RunsOnDevice)
            throw new SettingException("Device", $"the {r.Scheme.Name} scheme samples on the CPU only.");
        if (Device != Device.Cpu && Ranks is { Size: > 1 })
            throw new SettingException("Device", "MPI ranks sample on their CPUs; run one process for a device.");
        LastClipExchangeBytes = null;
        return r.Scheme.Run(this, r, known, progress, ct);
    }

    private MtdSampler? _extended;

    /// <summary>The samplers over the global, local and extended models, for the schemes.</summary>
    internal MtdSampler GlobalSampler => _global;

    /// <inheritdoc cref="GlobalSampler"/>
    internal MtdSampler LocalSampler => _local;

    /// <inheritdoc cref="GlobalSampler"/>
    internal MtdSampler? ExtendedSampler => _extended;

    /// <summary>Channels of the latents the models sample.</summary>
    internal int LatentChannels => _channels;

    /// <summary>Height and width of the latents the models sample.</summary>
    internal int LatentSize => _size;

    /// <summary>Refuses an L other than the one the global and local models were trained for (when their configs
    /// record it), or past an ExVideo-extended model's position tables.</summary>
    internal void CheckUnitLength(int length)
    {
        foreach (var (model, which) in new[] { (_global, "global"), (_local, "local") })
        {
            CheckTables(model, length, $"length (L) {length}: the {which} model");
            if (model.Parts.Unet.Config.NumFrames is { } trained && trained != length)
                throw new SettingException("Length", $"length (L) {length}: the {which} model was trained for " +
                    $"L = {trained}.");
        }
    }

    /// <summary>Refuses more frames per model call than an ExVideo-extended model's position tables hold.</summary>
    internal static void CheckTables(MtdSampler model, int frames, string subject)
    {
        if (model.Parts.Unet.Config.FramePositionTable is > 0 and var rows && frames > rows)
            throw new SettingException("Length", $"{subject} draws at most {rows} frames at once (its position " +
                $"tables end there); asked for {frames}.");
    }

    /// <summary>
    /// The long-context image-to-video model of the extended scheme (an ExVideo-extended model, or any model that
    /// takes the first frame given, e.g. the base model it was extended from). Null until set.
    /// </summary>
    public MtdPipelineParts? ExtendedModel
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

    /// <summary>Bytes the clips of the last clip-parallel generation on this process received from other clips (the
    /// exchange volume); null before one ran.</summary>
    public long? LastClipExchangeBytes { get; internal set; }

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

    internal int[] UnitShape(WorkUnit u) => new[] { u.Positions.Length, _channels, _size, _size };

    /// <summary>Writes a finished unit's frames into <paramref name="known"/>, locked: sampling workers read it
    /// (<see cref="SampleBatch"/>) while the caller's thread records, and a Dictionary must not be read while it is
    /// written.</summary>
    internal static void Record(WorkUnit u, Tensor latents, Dictionary<int, Tensor> known)
    {
        lock (known)
            for (int f = 0; f < u.Positions.Length; f++)
                if (!u.Given[f]) known[u.Positions[f]] = latents.Narrow(0, f, 1).Squeeze(0).Contiguous();
    }

    /// <summary>The settings unit <paramref name="u"/> is sampled with: the global model's own steps for its
    /// units.</summary>
    private static SamplerOptions SamplerFor(GenerationRequest r, WorkUnit u) =>
        u.IsGlobal ? r.Sampler.ForGlobal() : r.Sampler;

    internal static MtdClip ToClip(WorkUnit u, Storyline story, Dictionary<int, Tensor> known, ulong seed)
    {
        var given = u.Positions.Select((p, i) => u.Given[i] ? known[p] : null).ToArray();
        var prompts = u.Positions.Select(story.PromptAt).ToArray();
        return new MtdClip(u.Positions, prompts, given, new Rng(seed).Derive((ulong)u.Level, (ulong)u.Index));
    }
}

/// <summary>A redrawn range: the original latents, the new ones, and the frames [Lo, Hi) that changed.</summary>
public sealed record Regeneration(Dictionary<int, Tensor> Original, Dictionary<int, Tensor> Latents, int Frames,
    int Lo, int Hi);
