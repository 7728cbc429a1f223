using System.CommandLine;
using System.Text.Json;
using Longshot.Diffusion;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Diffusion.Training;
using Longshot.Eval.Benchmark;
using Longshot.Eval.Features;
using Longshot.Tensors;

namespace Longshot.Cli.Commands;

/// <summary>`longshot eval`: Table 1 (DoD against AR), and `eval vae` / `eval mtd` for single models.</summary>
internal static class EvalCommands
{
    public static Command Create()
    {
        var data = CliOptions.Text("--data", "dataset folder (test split: stories and real windows)", "DIR", true);
        var m = new ModelOptions();
        var outDir = CliOptions.Text("--out", "results folder (default out/eval, out/eval-quick with --quick)", "DIR");
        var quick = CliOptions.Flag("--quick", "lengths 16,64, 64 frames per row, 6 steps");
        var lengths = CliOptions.IntList("--lengths", "video lengths (default 16,256,1024)", 2,
            GenerationRequest.MaxFrames);
        var budget = CliOptions.OptionalInt("--budget", "frames generated per row (default 1024, 64 with --quick)", 16,
            10_000_000);
        var steps = CliOptions.OptionalInt("--steps",
            $"denoising steps (default {ShippedModels.Sampler.Steps}, 6 with --quick)", 1, 1000);
        var correlation = SamplingOptions.NoiseCorrelationOption();
        var fillStart = SamplingOptions.FillStartOption();
        var fillEase = SamplingOptions.FillEaseOption();
        var globalSteps = SamplingOptions.GlobalStepsOption();
        var guidance = CliOptions.Number("--guidance", "classifier-free guidance scale",
            ShippedModels.Sampler.GuidanceScale, 0, SamplerOptions.MaxGuidance);
        var sampler = CliOptions.Choice("--sampler", "scheduler", Diffusion.Schedulers.Scheduler.Names.ToArray());
        var extractor = ExtractorOption();
        var batch = CliOptions.Int("--batch", "units per model call", LongVideoPipeline.DefaultBatchSize, 1, 64);
        var length = CliOptions.Int("--length", "frames per model call (L) the models were trained for", 16, 3, 1024);
        var schemes = CliOptions.Text("--schemes", "comma-separated schemes to score (default dod,ar,clips)",
            "LIST");
        var depth = CliOptions.OptionalInt("--depth", "levels of DoD's hierarchy (default: the fewest that reach " +
            "consecutive frames, more where keyframes would be under 8 frames apart; the paper's Table 2c)", 1, 12);
        var seed = CliOptions.Seed();
        var quiet = CliOptions.Flag("--quiet", "no progress output");
        var eval = new Command("eval",
            "Table 1: videos of each length by DoD and AR from test-split stories, scored (Avg-FID, " +
                                       "B-FVD-16, story accuracy, consistency, jitter, cut F1, time) into table1.md, " +
                                           "table1.csv and " +
                                       "quality.svg. Rerun to resume.")
            .With(data).With(m.All)
                .With(outDir, quick, lengths, budget, steps, globalSteps, guidance, correlation, fillStart, fillEase,
                    sampler, extractor)
                .With(batch, length, depth, schemes, seed, quiet);
        eval.Subcommands.Add(Vae());
        eval.Subcommands.Add(Mtd());
        eval.Subcommands.Add(ExVideo());
        eval.Subcommands.Add(Story());
        eval.Subcommands.Add(Keyframes());
        return eval.Runs((p, ct) =>
        {
            bool q = p.GetValue(quick);
            var (fx, fxSha256) = ExtractorOf(p, extractor);
            var o = new BenchmarkOptions
            {
                Data = p.GetValue(data)!, Global = p.GetValue(m.Global) ?? ShippedModels.Global(),
                    Local = p.GetValue(m.Local) ?? ShippedModels.Local(),
                Vae = p.GetValue(m.Vae) ?? ShippedModels.Vae(), Extractor = fx, ExtractorSha256 = fxSha256,
                Out = p.GetValue(outDir) ?? (q ? "out/eval-quick" : "out/eval"),
                Lengths = CliOptions.Ints(p.GetValue(lengths)) ?? (q ? new[] { 16, 64 } : new[] { 16, 256, 1024 }),
                FrameBudget = p.GetValue(budget) ?? (q ? 64 : 1024), Batch = p.GetValue(batch), Seed = p.GetValue(seed),
                LocalLength = p.GetValue(length),
                Schemes = (p.GetValue(schemes) is { } list
                        ? list.Split(',', StringSplitOptions.TrimEntries).Select(SchemeForTable)
                        : GenerationSchemes.OnStoryModels)
                    .Select(x => x is DiffusionOverDiffusion dod ? dod with { Depth = p.GetValue(depth) } : x)
                    .ToArray(),
                Sampler = SamplerOptions.Shipped with
                {
                    Steps = p.GetValue(steps) ?? (q ? 6 : SamplerOptions.Shipped.Steps),
                    GuidanceScale = (float)p.GetValue(guidance), Scheduler = p.GetValue(sampler)!,
                    NoiseCorrelation = (float)p.GetValue(correlation), FillStart = (float)p.GetValue(fillStart),
                    FillEase = p.GetValue(fillEase), GlobalSteps = p.GetValue(globalSteps),
                },
                Device = DeviceOption.Open(p, m.Device),
            };
            bool silent = p.GetValue(quiet);
            var progress = new SyncProgress<string>(x =>
                { if (!silent) Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {x}"); });
            LongVideoBenchmark.Run(o, progress, ct);
            Console.WriteLine(File.ReadAllText(Path.Combine(o.Out, "table1.md")));
            Console.WriteLine($"wrote {Path.GetFullPath(Path.Combine(o.Out, "table1.md"))}, table1.csv and " +
                $"quality.svg");
            return 0;
        });
    }

    private static Command Vae()
    {
        var model = CliOptions.Text("--model", "VAE folder", "DIR", true);
        var data = CliOptions.Text("--data", "dataset folder (validation split)", "DIR", true);
        var clip = CliOptions.Int("--clip-frames", "frames per clip", 8, 2, 1024);
        var images = CliOptions.Flag("--images", "score frame by frame (image VAE)");
        var json = CliOptions.Flag("--json", "print JSON");
        return new Command("vae", "Validation PSNR, SSIM and temporal-consistency error of a VAE.")
            .With(model, data, clip, images, json)
            .Runs((p, _) =>
            {
                var v = VaeTrainer.Evaluate(p.GetValue(model)!, p.GetValue(data)!, p.GetValue(clip),
                    asVideo: !p.GetValue(images));
                Console.WriteLine(p.GetValue(json)
                    ? JsonSerializer.Serialize(new { psnr = v.Psnr, ssim = v.Ssim, temporal_error = v.TemporalError,
                        frames = v.Frames })
                    : $"psnr {v.Psnr:F2} dB  ssim {v.Ssim:F4}  temporal error {v.TemporalError:F3}  ({v.Frames} " +
                        $"frames)");
                return 0;
            });
    }

    /// <summary>`eval exvideo`: the extended model against the base model run naively and autoregressively, and
    /// DoD, at one length.</summary>
    private static Command ExVideo()
    {
        var data = CliOptions.Text("--data", "dataset folder (test split: stories and real windows)", "DIR", true);
        var frames = CliOptions.Int("--frames", "video length", 80, 17, 4096);
        var baseModel = CliOptions.ModelFolder("--base", "base model (default: models/toonworld-base)");
        var extended = CliOptions.ModelFolder("--extended", "extended model (default: models/toonworld-extended)");
        var noAdapter = CliOptions.ModelFolder("--no-adapter", "ablation: a model extended without the 3D adapter");
        var frozenTable = CliOptions.ModelFolder("--frozen-table",
            "ablation: a model extended with frozen position tables");
        var dodGlobal = CliOptions.ModelFolder("--dod-global",
            "ExVideo inside DoD: a global model extended to L keyframes (`train extend --given none`)");
        var dodLocal = CliOptions.ModelFolder("--dod-local", "ExVideo inside DoD: a local model extended to L frames " +
            "(`train extend --given ends`); L is its position table's length");
        var budget = CliOptions.Int("--budget", "frames generated per row", 480, 17, 10_000_000);
        var steps = CliOptions.Int("--steps", "denoising steps", ShippedModels.Sampler.Steps, 1, 1000);
        var outDir = CliOptions.Text("--out", "results folder (default out/eval-exvideo)", "DIR");
        var seed = CliOptions.Seed();
        var quiet = CliOptions.Flag("--quiet", "no progress output");
        return new Command("exvideo", "ExVideo's comparison: base model naively at --frames, base model " +
            "autoregressively, the extended model, DoD (and the ablations' models when given).")
            .With(data, frames, baseModel, extended, noAdapter, frozenTable, dodGlobal, dodLocal, budget, steps, outDir,
                seed, quiet)
            .Runs((p, ct) =>
            {
                string b = p.GetValue(baseModel) ?? ShippedModels.Base();
                string ext = p.GetValue(extended) ?? ShippedModels.Extended();
                int n = p.GetValue(frames);
                var variants = new List<BenchmarkVariant> { new("base-ar", new Autoregressive(), Local: b) };
                // One-pass rows run up to the extended model's length (the paper's comparison); past it only the
                // schemes that chain or nest model calls.
                int table = TableLength(ext, "--extended");
                if (n <= table)
                {
                    variants.Insert(0, new("base-naive", new Extended(), Extended: b));
                    variants.Add(new("extended", new Extended(), Extended: ext));
                    if (p.GetValue(noAdapter) is { } na)
                        variants.Add(new("extended-no-adapter", new Extended(), Extended: na));
                    if (p.GetValue(frozenTable) is { } ft)
                        variants.Add(new("extended-frozen-table", new Extended(), Extended: ft));
                }
                else Console.WriteLine($"{n} frames is longer than the extended model's {table}: no one-pass rows.");
                if ((p.GetValue(dodGlobal) == null) != (p.GetValue(dodLocal) == null))
                    throw new LongshotException("--dod-global and --dod-local go together.");
                if (p.GetValue(dodLocal) is { } dl)
                    variants.Add(new("dod-exvideo", new DiffusionOverDiffusion(), Local: dl,
                        Global: p.GetValue(dodGlobal), Length: TableLength(dl, "--dod-local")));
                var o = new BenchmarkOptions
                {
                    Data = p.GetValue(data)!, Global = ShippedModels.Global(), Local = ShippedModels.Local(),
                    Vae = ShippedModels.Vae(), Extractor = ShippedExtractor.Folder(),
                    ExtractorSha256 = ShippedExtractor.Sha256, Out = p.GetValue(outDir) ?? "out/eval-exvideo",
                    Lengths = new[] { n }, FrameBudget = p.GetValue(budget), Seed = p.GetValue(seed),
                    Schemes = new GenerationScheme[] { new DiffusionOverDiffusion() }, Variants = variants,
                    Sampler = ShippedModels.Sampler with { Steps = p.GetValue(steps) },
                };
                bool silent = p.GetValue(quiet);
                var progress = new SyncProgress<string>(x =>
                    { if (!silent) Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {x}"); });
                LongVideoBenchmark.Run(o, progress, ct);
                Console.WriteLine(File.ReadAllText(Path.Combine(o.Out, "table1.md")));
                return 0;
            });
    }

    /// <summary>`eval story`: per segment of a storyline, how often a generated video shows the asked place, time of
    /// day and shirt colours.</summary>
    private static Command Story()
    {
        var frames = CliOptions.Text("--frames", "folder of the video's frames as PNGs, in name order (`generate " +
            "--out DIR` writes one)", "DIR", true);
        var story = CliOptions.Text("--story", "the storyline the video was generated from", "FILE", true);
        var extractor = ExtractorOption();
        var reference = CliOptions.Text("--reference", "annotated dataset folder (`data toonworld`): beside each " +
            "segment's shirts, how often the extractor sees the same shirts at that framing on its real frames", "DIR");
        var roundTrip = CliOptions.Flag("--round-trip", "with --reference: also how often after a round trip of " +
            "those frames through the VAE (the most a model in its latent space could show); both columns then come " +
            "from 16-frame windows every 160 frames");
        var vae = CliOptions.VaeFolder("--vae", "T-KLVAE of --round-trip (default: models/toonworld-vae)");
        return new Command("story", "Per story segment: the fraction of its frames showing the asked place, time of " +
                "day and shirt colours (the shipped extractor).")
            .With(frames, story, extractor, reference, roundTrip, vae)
            .Runs((p, ct) =>
            {
                string dir = p.GetValue(frames)!;
                if (!Directory.Exists(dir)) throw new LongshotException($"--frames: folder not found: {dir}");
                var files = Directory.GetFiles(dir, "*.png").Order(StringComparer.Ordinal).ToList();
                if (files.Count == 0) throw new LongshotException($"--frames: {dir} has no PNG files.");
                var s = Storyline.Load(p.GetValue(story)!, Storyline.DefaultFps, files.Count);
                var video = files.Select(Video.Formats.Png.Load).ToList();
                var (fx, fxSha256) = ExtractorOf(p, extractor);
                var extractorModel = Eval.Features.FeatureExtractor.Load(fx, fxSha256);
                Eval.Metrics.ShirtReference? real = null, throughVae = null;
                if (p.GetValue(roundTrip) && p.GetValue(reference) == null)
                    throw new LongshotException("--round-trip: needs --reference (the frames sent through the VAE).");
                if (p.GetValue(vae) != null && !p.GetValue(roundTrip))
                    throw new LongshotException("--vae: only used by --round-trip.");
                if (p.GetValue(reference) is { } refDir)
                {
                    if (!Directory.Exists(refDir))
                        throw new LongshotException($"--reference: dataset folder not found: {refDir}");
                    using var store = Video.Store.DatasetStore.Open(refDir);
                    if (p.GetValue(roundTrip))
                        (real, throughVae) = Eval.Metrics.ShirtReference.MeasureRoundTrip(extractorModel, store,
                            Diffusion.Vae.AutoencoderKL.Load(p.GetValue(vae) ?? ShippedModels.Vae()), ct: ct);
                    else real = Eval.Metrics.ShirtReference.Measure(extractorModel, store, ct: ct);
                }
                var scores = Eval.Metrics.SegmentScores.Score(extractorModel, video, s, real, throughVae);
                Console.Write(Eval.Metrics.SegmentScores.Markdown(scores));
                return 0;
            });
    }

    private static Command Keyframes()
    {
        var data = CliOptions.Text("--data", "dataset folder (test split: stories and real frames)", "DIR", true);
        var m = new ModelOptions();
        var frames = CliOptions.Int("--frames", "frames of the videos whose keyframes are drawn", 1024, 2,
            GenerationRequest.MaxFrames);
        var windows = CliOptions.Int("--windows", "test-split stories (windows of --frames frames)", 32, 1, 100_000);
        var steps = CliOptions.Int("--steps", "denoising steps (what --global-steps 0 means)",
            ShippedModels.Sampler.Steps, 1, 1000);
        var globalSteps = SamplingOptions.GlobalStepsOption();
        var guidance = CliOptions.Number("--guidance", "classifier-free guidance scale",
            ShippedModels.Sampler.GuidanceScale, 0, SamplerOptions.MaxGuidance);
        var sampler = CliOptions.Choice("--sampler", "scheduler", Diffusion.Schedulers.Scheduler.Names.ToArray());
        var length = CliOptions.Int("--length", "keyframes per global unit (L) the model was trained for", 16, 3,
            1024);
        var depth = CliOptions.OptionalInt("--depth", "levels of DoD's hierarchy (default: as `generate` chooses)", 1,
            12);
        var seed = CliOptions.Seed();
        var extractor = ExtractorOption();
        var json = CliOptions.Flag("--json", "print JSON");
        var quiet = CliOptions.Flag("--quiet", "no progress output");
        return new Command("keyframes", "The global model alone: the keyframes DoD draws for test-split stories of " +
                "--frames frames, as `eval` seeds them, each scored against the real frame (Avg-FID, story " +
                "accuracy by attribute). Minutes instead of whole videos.")
            .With(data, m.Global, m.Vae, frames, windows, steps, globalSteps, guidance, sampler, length, depth, seed)
            .With(extractor, json, quiet)
            .Runs((p, ct) =>
            {
                var (fx, fxSha256) = ExtractorOf(p, extractor);
                bool asJson = p.GetValue(json), silent = p.GetValue(quiet) || asJson;
                var o = new KeyframeOptions
                {
                    Data = p.GetValue(data)!, Global = p.GetValue(m.Global) ?? ShippedModels.Global(),
                    Vae = p.GetValue(m.Vae) ?? ShippedModels.Vae(), Extractor = fx, ExtractorSha256 = fxSha256,
                    Frames = p.GetValue(frames),
                    Windows = p.GetValue(windows), Length = p.GetValue(length), Depth = p.GetValue(depth),
                    Seed = p.GetValue(seed),
                    Sampler = ShippedModels.Sampler with
                    {
                        Steps = p.GetValue(steps), GuidanceScale = (float)p.GetValue(guidance),
                        Scheduler = p.GetValue(sampler)!, GlobalSteps = p.GetValue(globalSteps),
                    },
                };
                var progress = new SyncProgress<(int Done, int Total)>(x =>
                    { if (!silent) Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] story {x.Done}/{x.Total}"); });
                var s = KeyframeBenchmark.Run(o, progress, ct);
                var by = s.StoryByAttribute!;
                if (asJson)
                    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["keyframes"] = s.Frames, ["avg_fid"] = s.AvgFid, ["story_accuracy"] = s.StoryAccuracy,
                        ["story_by_attribute"] = by,
                    }));
                else
                    Console.WriteLine($"{s.Frames} keyframes of {o.Windows} stories of {o.Frames} frames: Avg-FID " +
                        $"{s.AvgFid:F2}  story accuracy {s.StoryAccuracy:P1}  (" +
                        string.Join(", ", by.Select(kv => $"{kv.Key} {kv.Value:P1}")) + ")");
                return 0;
            });
    }

    /// <summary>`--extractor`: the feature extractor that scores.</summary>
    private static Option<string?> ExtractorOption() => CliOptions.Text("--extractor",
        "feature extractor folder or .safetensors (default: the shipped one)", "DIR|FILE");

    /// <summary>The extractor `--extractor` names (any weights), or the shipped one pinned to its SHA-256.</summary>
    private static (string Path, string? Sha256) ExtractorOf(ParseResult p, Option<string?> option) =>
        p.GetValue(option) is { } fx ? (fx, null) : (ShippedExtractor.Folder(), ShippedExtractor.Sha256);

    /// <summary>A scheme Table 1 can score (the extended scheme has its own `eval exvideo`).</summary>
    private static GenerationScheme SchemeForTable(string name)
    {
        if (GenerationSchemes.TryParse(name) is { OnStoryModels: true } s) return s;
        throw new LongshotException($"--schemes: '{name}' is not one of " +
            $"{string.Join(", ", GenerationSchemes.OnStoryModels.Select(x => x.Name))}.");
    }

    /// <summary>The frames an extended model runs at once (the rows of its position tables).</summary>
    private static int TableLength(string folder, string option)
    {
        var path = Path.Combine(folder, "unet", "config.json");
        if (!File.Exists(path)) throw new LongshotException($"{option}: {folder} has no unet/config.json.");
        int rows = Diffusion.Unet.MaskUnetConfig.Load(path).FramePositionTable;
        if (rows < 3) throw new LongshotException($"{option}: {folder} is not an extended model (no position table).");
        return rows;
    }

    private static Command Mtd()
    {
        var model = CliOptions.ModelFolder("--model", "MTD folder", required: true);
        var data = CliOptions.Text("--data", "dataset folder", "DIR", true);
        var vae = CliOptions.VaeFolder("--vae", "T-KLVAE folder (default: models/toonworld-vae)");
        var levels = CliOptions.IntList("--levels", "levels to score (default: 1..depth)", 1, 6);
        var depth = CliOptions.Int("--depth", "levels of the hierarchy", 3, 1, 6);
        var length = CliOptions.Int("--length", "frames per clip (L)", 16, 3, 1024);
        var clips = CliOptions.Int("--clips", "validation clips per level", 64, 1, 100_000);
        var fill = CliOptions.Int("--fill",
            "also fill N real-keyframe clips of the test split and score them (the MI/SI ablation)", 0, 0, 100_000);
        var extractor = ExtractorOption();
        var json = CliOptions.Flag("--json", "print JSON");
        return new Command("mtd",
            "Held-out loss of an MTD at each level (validation split), and optionally real-keyframe fill scores.")
            .With(model, data, vae, levels, depth, length, clips, fill, extractor, json).Runs((p, ct) =>
            {
                string folder = p.GetValue(model)!, store = p.GetValue(data)!,
                    vaeFolder = p.GetValue(vae) ?? ShippedModels.Vae();
                int d = p.GetValue(depth), l = p.GetValue(length), n = p.GetValue(clips), f = p.GetValue(fill);
                bool asJson = p.GetValue(json);
                var ks = CliOptions.Ints(p.GetValue(levels)) ?? Enumerable.Range(1, d).ToArray();
                if (ks.Any(k => k > d))
                    throw new Tensors.LongshotException($"--levels must be between 1 and the depth {d}.");
                var parts = MtdPipelineParts.Load(folder);
                var result = new Dictionary<string, object>();
                foreach (int level in ks)
                {
                    var role = level == 1 ? TrainingRole.Global : TrainingRole.Local;
                    double loss = MtdTrainer.ValidationLoss(parts, store, vaeFolder, role, level, d, l, n, ct: ct);
                    result[$"val_loss_level{level}"] = loss;
                    if (!asJson)
                        Console.WriteLine($"level {level} ({role.Name()}, stride " +
                            $"{LongVideoSampling.Stride(level, d, l)}): " +
                            $"validation loss {loss:F5} over {n} clips");
                }
                if (f > 0)
                {
                    var (fx, fxSha256) = ExtractorOf(p, extractor);
                    var scores = InterpolationBenchmark.Run(new InterpolationOptions
                    {
                        Data = store, Local = folder, Vae = vaeFolder, Extractor = fx, ExtractorSha256 = fxSha256,
                        Clips = f, Length = l, Sampler = ShippedModels.Sampler,
                    }, null, ct);
                    result["fill_avg_fid"] = scores.AvgFid;
                    result["fill_b_fvd"] = scores.BlockFvd;
                    result["fill_story_accuracy"] = scores.StoryAccuracy;
                    if (!asJson)
                        Console.WriteLine($"fill between real keyframes ({f} clips of {l}): Avg-FID " +
                            $"{scores.AvgFid:F2}  B-FVD-{l} " +
                                          $"{scores.BlockFvd:F2}  story accuracy {scores.StoryAccuracy:P1}");
                }
                if (asJson) Console.WriteLine(JsonSerializer.Serialize(result));
                return 0;
            });
    }
}
