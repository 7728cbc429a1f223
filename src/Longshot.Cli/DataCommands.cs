using Longshot.Video.Formats;
using Longshot.Video.Store;
using Longshot.Video.Toonworld;

namespace Longshot.Cli;

/// <summary>`longshot data ...`: generate, import, inspect, verify and view dataset stores.</summary>
internal static class DataCommands
{
    public const string Usage = """
          data toonworld --out DIR [--episodes N] [--frames N] [--size S | --width W --height H] [--seed N] [--cast N]
                                       Generate Toonworld episodes (defaults: 1 episode, 3376 frames, 64x64, seed 1).
          data import VIDEO... --out DIR [--captions FILE...] [--fps 24] [--size 64] [--fit crop|letterbox]
                                       Import footage through ffmpeg, one episode per video; captions from SRT,
                                       WebVTT or JSONL ({"start": frame, "end": frame, "text": ...}).
          data info DIR [--json]       Episodes, frames, resolution, vocabulary size, splits.
          data verify DIR              Recompute every file's SHA-256 against the manifest.
          data render DIR --out FILE [--episode K] [--from A] [--to B] [--sheet-every N]
                                       Write frames of an episode as .mp4/.gif/.y4m/PNG folder, or a contact sheet (.png).
        """;

    public static int Run(string[] args, CancellationToken ct)
    {
        if (args.Length == 0) throw new ArgumentException("data: expected a subcommand (toonworld, import, info, verify, render).");
        var rest = args[1..];
        return args[0] switch
        {
            "toonworld" => Toonworld(new Args("data toonworld", rest, new HashSet<string> { "quiet" }), ct),
            "import" => Import(new Args("data import", rest, new HashSet<string> { "quiet" }), ct),
            "info" => Info(new Args("data info", rest, new HashSet<string> { "json" })),
            "verify" => Verify(new Args("data verify", rest, new HashSet<string>())),
            "render" => Render(new Args("data render", rest, new HashSet<string> { "quiet" }), ct),
            _ => throw new ArgumentException($"data: unknown subcommand '{args[0]}' (toonworld, import, info, verify, render)."),
        };
    }

    private static int Toonworld(Args a, CancellationToken ct)
    {
        var outDir = a.Require("out");
        int size = a.Int("size", 64, 16, 1024);
        var settings = new ToonworldSettings
        {
            Frames = a.Int("frames", 3376, 1), Width = a.Int("width", size, 16, 1024), Height = a.Int("height", size, 16, 1024),
            Seed = (ulong)a.Int("seed", 1, 0), CastSize = a.Int("cast", 4, 1, Palette.Names.Length),
        };
        int episodes = a.Int("episodes", 1, 1, 100_000);
        bool quiet = a.Flag("quiet");
        a.CheckAllUsed();
        var m = new ProgressView(quiet).Run("toonworld", p => DatasetBuilder.GenerateToonworld(outDir, settings, episodes,
            new SyncProgress<BuildProgress>(b => p.Report((b.Episode * (double)settings.Frames + (b.Frame < b.Frames ? b.Frame : 0), episodes * (double)settings.Frames, $"episode {Math.Min(b.Episode + 1, episodes)}/{episodes}"))), ct));
        Console.WriteLine($"wrote {m.Episodes.Count} episode(s), {m.Episodes.Sum(e => (long)e.Frames):N0} frames, to {Path.GetFullPath(outDir)}");
        return 0;
    }

    private static int Import(Args a, CancellationToken ct)
    {
        var outDir = a.Require("out");
        int size = a.Int("size", 64, 2, 4096);
        if (size % 2 != 0) throw new ArgumentException("data import: --size must be even.");
        double fps = a.Double("fps", 24, 0.01);
        var fit = (a.Get("fit") ?? "crop") switch
        {
            "crop" => FitMode.CenterCrop, "letterbox" => FitMode.Letterbox,
            var f => throw new ArgumentException($"data import: --fit must be crop or letterbox, got '{f}'."),
        };
        var caps = a.Get("captions")?.Split(',').ToList();
        bool quiet = a.Flag("quiet");
        a.CheckAllUsed();
        if (a.Positional.Count == 0) throw new ArgumentException("data import: give at least one video file.");
        if (caps != null && caps.Count != a.Positional.Count) throw new ArgumentException($"data import: {a.Positional.Count} video(s) but {caps.Count} caption file(s) (comma-separated, one per video).");
        var sources = a.Positional.Select((v, i) => (v, caps?[i])).ToList();
        var m = new ProgressView(quiet).Run("import", p => DatasetBuilder.Import(outDir, sources, size, size, fps, fit,
            new SyncProgress<BuildProgress>(b => p.Report((b.Episode, sources.Count, $"video {Math.Min(b.Episode + 1, sources.Count)}/{sources.Count}, frame {b.Frame}"))), ct));
        Console.WriteLine($"imported {m.Episodes.Count} video(s), {m.Episodes.Sum(e => (long)e.Frames):N0} frames at {size}x{size}, {fps} fps, to {Path.GetFullPath(outDir)}");
        return 0;
    }

    private static int Info(Args a)
    {
        bool json = a.Flag("json");
        a.CheckAllUsed();
        if (a.Positional.Count != 1) throw new ArgumentException("data info: give one dataset folder.");
        using var store = DatasetStore.Open(a.Positional[0]);
        var m = store.Manifest;
        if (json) { Console.WriteLine(m.ToJson()); return 0; }
        Console.WriteLine($"dataset     : {store.Root}");
        Console.WriteLine($"source      : {m.Source}");
        Console.WriteLine($"episodes    : {m.Episodes.Count}");
        Console.WriteLine($"frames      : {m.Episodes.Sum(e => (long)e.Frames):N0} (per episode {string.Join(", ", m.Episodes.Select(e => e.Frames).Distinct().Take(5))})");
        Console.WriteLine($"resolution  : {m.Width}x{m.Height} at {m.Fps} fps");
        Console.WriteLine($"vocabulary  : {m.VocabularySize} words");
        foreach (var split in new[] { Splits.Train, Splits.Validation, Splits.Test })
            Console.WriteLine($"{split,-12}: {m.Episodes.Count(e => e.Split == split)} episode(s)");
        Console.WriteLine($"size on disk: {m.Episodes.Sum(e => e.FramesFile.Size + e.CaptionsFile.Size + (e.AnnotationsFile?.Size ?? 0)) / 1e6:F1} MB");
        return 0;
    }

    private static int Verify(Args a)
    {
        a.CheckAllUsed();
        if (a.Positional.Count != 1) throw new ArgumentException("data verify: give one dataset folder.");
        using var store = DatasetStore.Open(a.Positional[0]);
        var bad = store.Verify();
        foreach (var b in bad) Console.Error.WriteLine($"checksum mismatch: {b}");
        Console.WriteLine(bad.Count == 0 ? $"all {store.Manifest.Episodes.Count} episode(s) intact" : $"{bad.Count} file(s) damaged");
        return bad.Count == 0 ? 0 : 1;
    }

    private static int Render(Args a, CancellationToken ct)
    {
        var outPath = a.Require("out");
        int epi = a.Int("episode", 0, 0);
        int from = a.Int("from", 0, 0);
        int? to = a.Get("to") is { } t ? int.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : null;
        int every = a.Int("sheet-every", 0, 0);
        bool quiet = a.Flag("quiet");
        a.CheckAllUsed();
        if (a.Positional.Count != 1) throw new ArgumentException("data render: give one dataset folder.");
        using var store = DatasetStore.Open(a.Positional[0]);
        if (epi >= store.Episodes.Count) throw new ArgumentException($"data render: episode {epi} does not exist (the store has {store.Episodes.Count}).");
        var ep = store.Episodes[epi];
        int end = Math.Min(ep.FrameCount, to ?? ep.FrameCount);
        if (from >= end) throw new ArgumentException($"data render: empty frame range [{from}, {end}).");
        bool sheet = Path.GetExtension(outPath).Equals(".png", StringComparison.OrdinalIgnoreCase);
        using IVideoWriter w = sheet ? new ContactSheet(outPath, every > 0 ? every : Math.Max(1, (end - from) / 48), 8) : VideoWriters.Create(outPath, store.Manifest.Fps);
        new ProgressView(quiet).Run("render", p =>
        {
            for (int i = from; i < end; i++)
            {
                ct.ThrowIfCancellationRequested();
                w.Write(ep.ReadFrame(i));
                p.Report((i - from + 1, end - from, $"frame {i}"));
            }
            w.Complete();
            return 0;
        });
        Console.WriteLine($"wrote frames {from}..{end - 1} of episode {epi} to {Path.GetFullPath(outPath)}");
        return 0;
    }

}
