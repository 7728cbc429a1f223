using System.Diagnostics;
using System.Text.Json;
using Longshot.Diffusion;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Diffusion.Vae;
using Longshot.Eval.Features;
using Longshot.Eval.Metrics;
using Longshot.Tensors;
using Longshot.Tensors.Devices;
using Longshot.Tensors.IO;
using Longshot.Video.Formats;
using Longshot.Video.Imaging;
using Longshot.Video.Store;

namespace Longshot.Eval.Benchmark;

/// <summary>Options of `longshot eval`: which models, which stories, how many frames.</summary>
public sealed record BenchmarkOptions : BenchmarkInputs
{
    public required string Global { get; init; }
    public required string Local { get; init; }
    public required string Out { get; init; }
    public int[] Lengths { get; init; } = { 16, 256, 1024 };
    /// <summary>The schemes of the rows, each with its settings (clip parallelism's dual scope by default).</summary>
    public GenerationScheme[] Schemes { get; init; } = GenerationSchemes.OnStoryModels.ToArray();

    /// <summary>Lengths at which the clip-attention ablation (independent, local, global) adds rows.</summary>
    public int[] ClipAblationLengths { get; init; } = { 256 };

    /// <summary>More rows, each a scheme with other models (the ExVideo comparison), after the schemes' rows.</summary>
    public IReadOnlyList<BenchmarkVariant> Variants { get; init; } = Array.Empty<BenchmarkVariant>();
    /// <summary>Frames generated per (length, scheme): length L gets budget / L videos, so every length is scored on as
    /// many frames and blocks.</summary>
    public int FrameBudget { get; init; } = 1024;
    public int LocalLength { get; init; } = 16;
    public int Batch { get; init; } = LongVideoPipeline.DefaultBatchSize;
    public ulong Seed { get; init; } = 1;
    public SamplerOptions Sampler { get; init; } = ShippedModels.Sampler;
    /// <summary>Where the diffusion models sample (its backend registered by the caller); scoring stays on the
    /// host.</summary>
    public Device Device { get; init; } = Device.Cpu;
}

/// <summary>A row of its own: <paramref name="Scheme"/> with other global, local and/or extended models, and its own
/// frames per model call <paramref name="Length"/> (default: the benchmark's L).</summary>
public sealed record BenchmarkVariant(string Name, GenerationScheme Scheme, string? Local = null,
    string? Extended = null, string? Global = null, int? Length = null);

/// <summary>One row of Table 1: a scheme at a length.</summary>
/// <param name="SeamScore">Clip-parallel rows: change across clip joins over change inside clips (<see
/// cref="Metrics.SeamScore"/>); NaN for other schemes.</param>
public sealed record BenchmarkRow(int Frames, string Scheme, int Videos, VideoScores Scores, double SecondsPerVideo,
    double SeamScore = double.NaN);

/// <summary>
/// Table 1 on Toonworld: for every length and scheme, generates videos from stories of the test split (the
/// captions of real windows of test episodes), and scores them against those real windows. Finished rows are kept in
/// OUT/rows.json, so an interrupted run continues with the next row.
/// </summary>
public static class LongVideoBenchmark
{
    /// <summary>Moves <paramref name="pipe"/> to the options' device (every ready unit of a level in one call there,
    /// or --batch units when given); the clips scheme samples on the CPU only, so it is refused up front.</summary>
    private static void OnDevice(LongVideoPipeline pipe, BenchmarkOptions o)
    {
        if (o.Device == Device.Cpu) return;
        if (o.Schemes.FirstOrDefault(s => !s.RunsOnDevice) is { } cpuOnly)
            throw new SettingException("Device", $"{o.Device}: the {cpuOnly.Name} scheme samples on the CPU only; " +
                "leave it out of the schemes.");
        pipe.ToDevice(o.Device,
            o.Batch > LongVideoPipeline.DefaultBatchSize ? o.Batch : LongVideoPipeline.DeviceBatchSize);
    }

    public const string RowsFile = "rows.json";

    // Undefined scores are NaN, which JSON has no number for.
    private static readonly JsonSerializerOptions RowsJson = new()
    {
        WriteIndented = true,
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static List<BenchmarkRow> Run(BenchmarkOptions o, IProgress<string>? progress = null,
        CancellationToken ct = default)
    {
        if (o.Lengths.Length == 0 || o.Lengths.Any(l => l < 2 || l > GenerationRequest.MaxFrames))
            throw new LongshotException($"eval: lengths must be between 2 and {GenerationRequest.MaxFrames} frames.");
        o.Sampler.Validate();
        using var store = DatasetStore.Open(o.Data);
        var tests = TestEpisodes(store, o.Data);
        var fx = FeatureExtractor.Load(o.Extractor, o.ExtractorSha256);
        var evaluator = new VideoEvaluator(fx);
        var globalParts = MtdPipelineParts.Load(o.Global);
        var localParts = MtdPipelineParts.Load(o.Local);
        var vae = AutoencoderKL.Load(o.Vae);
        var pipe = new LongVideoPipeline(globalParts, localParts, vae) { BatchSize = o.Batch };
        OnDevice(pipe, o);
        Directory.CreateDirectory(o.Out);
        var rowsPath = Path.Combine(o.Out, RowsFile);
        // Finished rows are reused only by a rerun with the same models and settings.
        var header = $"extractor sha256 {fx.Sha256}; sampler {o.Sampler.Scheduler} {o.Sampler.Steps} steps, guidance " +
            $"{o.Sampler.GuidanceScale}" + (o.Sampler.NoiseCorrelation != 0
                ? $", noise correlation {o.Sampler.NoiseCorrelation}" : "")
            + (o.Sampler.FillStart != 1 ? $", fill start {o.Sampler.FillStart}" : "")
            + (o.Sampler.FillStart != 1 && o.Sampler.FillEase != 1 ? $", fill ease {o.Sampler.FillEase}" : "")
            + (o.Sampler.HasGlobalSteps ? $", global steps {o.Sampler.GlobalSteps}" : "") + "; " +
                     $"L = {o.LocalLength}; DoD keyframes spread over the video; " +
                     string.Concat(o.Schemes.Select(s => s.SettingsNote)) +
                     $"{o.FrameBudget} frames per row; seed {o.Seed}; " +
                     $"test split of {o.Data}; " +
                     $"global {Path.GetFullPath(o.Global)}; local {Path.GetFullPath(o.Local)}; vae " +
                         $"{Path.GetFullPath(o.Vae)}";
        var settingsPath = Path.Combine(o.Out, "settings.txt");
        if (File.Exists(rowsPath) && (!File.Exists(settingsPath) || File.ReadAllText(settingsPath) != header))
            throw new SettingException(nameof(o.Out), $"{o.Out} holds results of other models or settings " +
                $"({settingsPath}); use another results folder or delete it.");
        AtomicFile.WriteAllText(settingsPath, header);
        var rows = File.Exists(rowsPath)
            ? JsonSerializer.Deserialize<List<BenchmarkRow>>(File.ReadAllText(rowsPath), RowsJson)
            ?? new() : new List<BenchmarkRow>();
        foreach (int n in o.Lengths)
        {
            var windows = Windows(tests, n, Math.Max(1, o.FrameBudget / n));
            var real = windows.Select(w => RealVideo(w.Ep, w.Start, n)).ToList();
            var realFeatures = real.Select(evaluator.Extract).ToList();
            foreach (var (name, scheme, variant) in Rows(o, n))
            {
                if (rows.Any(r => r.Frames == n && r.Scheme == name)) continue;
                MtdPipelineParts Or(string? folder, MtdPipelineParts shared) =>
                    folder != null ? MtdPipelineParts.Load(folder) : shared;
                var rowPipe = variant == null ? pipe
                    : new LongVideoPipeline(Or(variant.Global, globalParts), Or(variant.Local, localParts), vae)
                {
                    BatchSize = o.Batch,
                    ExtendedModel = variant.Extended != null ? MtdPipelineParts.Load(variant.Extended) : null,
                };
                if (variant != null) OnDevice(rowPipe, o);
                var generated = new List<ScoredVideo>();
                var seams = new SeamScore();
                var sw = Stopwatch.StartNew();
                for (int v = 0; v < real.Count; v++)
                {
                    ct.ThrowIfCancellationRequested();
                    progress?.Report($"{name} {n} frames: video {v + 1}/{real.Count}");
                    var request = new GenerationRequest(Storyline.FromFramePrompts(real[v].Prompts), n)
                    {
                        Scheme = scheme, Length = variant?.Length ?? o.LocalLength, Seed = o.Seed + (ulong)v,
                        Sampler = o.Sampler,
                    };
                    var video = rowPipe.GenerateFrames(request, ct: ct).Select(Frame.FromTensor).ToList();
                    generated.Add(real[v] with
                    {
                        Frames = video, Levels = LongVideoPipeline.Plan(request).LevelFrames,
                    });
                    if (scheme.Seams(request) is { } joins) seams.Add(video, joins);
                    if (v == 0) WriteSample(Path.Combine(o.Out, $"{name}-{n}.gif"), video);
                }
                double seconds = sw.Elapsed.TotalSeconds / real.Count;
                progress?.Report($"{name} {n} frames: scoring");
                var scores = evaluator.Score(generated, generated.Select(evaluator.Extract).ToList(), realFeatures);
                rows.Add(new BenchmarkRow(n, name, real.Count, scores, seconds, seams.Value));
                AtomicFile.WriteAllText(rowsPath, JsonSerializer.Serialize(rows, RowsJson));
            }
            // The real videos themselves: the ceiling for story accuracy, consistency and cut accuracy.
            if (!rows.Any(r => r.Frames == n && r.Scheme == "real"))
            {
                var s = evaluator.Score(real, realFeatures, realFeatures);
                rows.Add(new BenchmarkRow(n, "real", real.Count, s, 0));
                AtomicFile.WriteAllText(rowsPath, JsonSerializer.Serialize(rows, RowsJson));
            }
            // The real videos through the VAE, tiled as generation decodes: what the VAE alone loses.
            if (!rows.Any(r => r.Frames == n && r.Scheme == ReconstructedRow))
            {
                progress?.Report($"{ReconstructedRow} {n} frames: reconstructing");
                var codec = new ChunkedVideoCodec(vae);
                var recon = real.Select(v => v with { Frames = Reconstruct(codec, v.Frames, ct) }).ToList();
                var s = evaluator.Score(recon, recon.Select(evaluator.Extract).ToList(), realFeatures);
                rows.Add(new BenchmarkRow(n, ReconstructedRow, real.Count, s, 0));
                AtomicFile.WriteAllText(rowsPath, JsonSerializer.Serialize(rows, RowsJson));
            }
        }
        ResultTables.Write(o.Out, rows.Where(r => o.Lengths.Contains(r.Frames)).ToList(), header);
        return rows;
    }

    /// <summary>
    /// The rows of one length: each scheme, then at the ablation lengths clip parallelism with each other attention
    /// scope ("clips-independent", "clips-local", "clips-global"), then the variants.
    /// </summary>
    internal static IEnumerable<(string Name, GenerationScheme Scheme, BenchmarkVariant? Variant)>
        Rows(BenchmarkOptions o, int n)
    {
        foreach (var scheme in o.Schemes) yield return (scheme.Name, scheme, null);
        if (o.ClipAblationLengths.Contains(n))
            foreach (var (name, ablated) in o.Schemes.SelectMany(s => s.Ablations)) yield return (name, ablated, null);
        foreach (var v in o.Variants) yield return (v.Name, v.Scheme, v);
    }

    /// <summary>The test split's episodes, the stories and real videos of the benchmarks (annotated, for
    /// scoring).</summary>
    internal static List<StoredEpisode> TestEpisodes(DatasetStore store, string data)
    {
        var tests = store.Episodes.Where(e => e.Entry.Split == Splits.Test).ToList();
        if (tests.Count == 0) throw new LongshotException($"{data}: no test-split episodes to take stories from.");
        if (tests.Any(e => e.Annotation(0) == null))
            throw new LongshotException($"{data}: test episodes have no annotations (shots are needed for scoring).");
        return tests;
    }

    /// <summary>Evenly spread windows of n frames over the test episodes.</summary>
    internal static List<(StoredEpisode Ep, int Start)> Windows(IReadOnlyList<StoredEpisode> eps, int n, int count)
    {
        var usable = eps.Where(e => e.FrameCount >= n).ToList();
        if (usable.Count == 0) throw new LongshotException($"eval: no test episode has {n} frames.");
        var list = new List<(StoredEpisode, int)>();
        int perEpisode = (count + usable.Count - 1) / usable.Count;
        for (int v = 0; v < count; v++)
        {
            var ep = usable[v % usable.Count];
            int k = v / usable.Count;
            list.Add((ep, (int)((ep.FrameCount - n) * (k + 0.5) / perEpisode)));
        }
        return list;
    }

    /// <summary>The row of the real videos encoded and decoded by the VAE.</summary>
    public const string ReconstructedRow = "vae";

    private static List<Frame> Reconstruct(ChunkedVideoCodec codec, IReadOnlyList<Frame> frames, CancellationToken ct)
    {
        var x = Ops.Stack(frames.Select(f => f.ToTensor()).ToList(), 0);
        var z = codec.Encode((s, n) => x.Narrow(0, s, n).Contiguous(), frames.Count, ct);
        return codec.Decode(z, ct).Select(Frame.FromTensor).ToList();
    }

    /// <summary>A real window as a scored video: its frames, captions (the prompts) and shot ids.</summary>
    public static ScoredVideo RealVideo(StoredEpisode ep, int start, int n) => new(
        Enumerable.Range(start, n).Select(ep.ReadFrame).ToList(),
        Enumerable.Range(start, n).Select(ep.Caption).ToList(),
        Enumerable.Range(start, n).Select(f => ep.Annotation(f)!.Shot).ToList());

    private static void WriteSample(string path, IReadOnlyList<Frame> frames)
    {
        using var w = VideoWriters.Create(path, 24);
        foreach (var f in frames) w.Write(f);
        w.Complete();
    }
}
