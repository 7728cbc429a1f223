using System.CommandLine;
using Longshot.Diffusion;
using Longshot.Diffusion.Training;
using Longshot.Tensors;
using Longshot.Video.Formats;
using Longshot.Video.Store;
using Longshot.Video.Toonworld;

namespace Longshot.Cli.Commands;

/// <summary>`longshot data ...`: generate, import, inspect, verify and view dataset stores.</summary>
internal static class DataCommands
{
    public static Command Create()
    {
        var data = new Command("data", "Generate, import, inspect, verify and view dataset stores.");
        foreach (var c in new[] { Toonworld(), Keyframes(), Import(), Info(), Verify(), Render() })
            data.Subcommands.Add(c);
        return data;
    }

    private static Argument<string> Folder() => new("DIR") { Description = "dataset folder" };

    private static Command Toonworld()
    {
        var outDir = CliOptions.Text("--out", "dataset folder to write", "DIR", true);
        var episodes = CliOptions.Int("--episodes", "episodes", 1, 1, 100_000);
        var frames = CliOptions.Int("--frames", "frames per episode", 3376, 1, 1_000_000);
        var size = CliOptions.OptionalInt("--size", "width and height (default 64)", 16, 1024);
        var width = CliOptions.OptionalInt("--width", "frame width (default: --size)", 16, 1024);
        var height = CliOptions.OptionalInt("--height", "frame height (default: --size)", 16, 1024);
        var seed = CliOptions.Seed();
        var cast = CliOptions.Int("--cast", "characters per episode", 4, 1, Palette.Names.Length);
        var quiet = CliOptions.Flag("--quiet", "no progress output");
        return new Command("toonworld", "Generate Toonworld episodes with exact annotations.")
            .With(outDir, episodes, frames, size, width, height, seed, cast, quiet).Runs((p, ct) =>
            {
                int s = p.GetValue(size) ?? 64, n = p.GetValue(episodes);
                var settings = new ToonworldSettings
                {
                    Frames = p.GetValue(frames), Width = p.GetValue(width) ?? s, Height = p.GetValue(height) ?? s,
                    Seed = p.GetValue(seed), CastSize = p.GetValue(cast),
                };
                var m = new ProgressView(p.GetValue(quiet))
                    .Run("toonworld", v => DatasetBuilder.GenerateToonworld(p.GetValue(outDir)!,
                    settings, n, new SyncProgress<BuildProgress>(b => v.Report((
                        b.Episode * (double)settings.Frames + (b.Frame < b.Frames ? b.Frame : 0),
                            n * (double)settings.Frames,
                        $"episode {Math.Min(b.Episode + 1, n)}/{n}"))), ct));
                Console.WriteLine($"wrote {m.Episodes.Count} episode(s), {m.Episodes.Sum(e => (long)e.Frames):N0} " +
                    $"frames, " +
                                  $"to {Path.GetFullPath(p.GetValue(outDir)!)}");
                return 0;
            });
    }

    private static Command Keyframes()
    {
        var outDir = CliOptions.Text("--out", "keyframe store folder to write (or finish)", "DIR", true);
        var stories = CliOptions.Int("--stories", "Toonworld stories", 2000, 1, 10_000_000);
        var units = CliOptions.Int("--units", "units drawn per story", 2, 1, 1000);
        var levels = CliOptions.IntList("--levels", "hierarchy levels of the units, in turn (default 1: the global " +
            "model's keyframes; 2,3: the local model's units)", 1, 6);
        var length = CliOptions.Int("--length", "keyframes per unit (the global model's L)", 16, 3, 1024);
        var frames = CliOptions.Int("--frames", "frames per story: request lengths are drawn up to it", 3376, 3,
            1_000_000);
        var seed = CliOptions.Int("--seed", "Toonworld seed of the stories (the dataset stores use 1)", 2, 0);
        var vae = CliOptions.VaeFolder("--vae", "T-KLVAE that encodes the keyframes (default: models/toonworld-vae)");
        var quiet = CliOptions.Flag("--quiet", "no progress output");
        return new Command("keyframes", "Render and encode the units of many Toonworld stories (training data for " +
                "`train global|local --keyframes`).")
            .With(outDir, stories, units, levels, length, frames, seed, vae, quiet).Runs((p, ct) =>
            {
                var settings = new KeyframeStoreSettings
                {
                    Stories = p.GetValue(stories), UnitsPerStory = p.GetValue(units), Length = p.GetValue(length),
                    Frames = p.GetValue(frames), Seed = (ulong)p.GetValue(seed),
                    Levels = CliOptions.Ints(p.GetValue(levels)) ?? new[] { 1 },
                };
                var store = new ProgressView(p.GetValue(quiet)).Run("keyframes", v => KeyframeStore.Build(
                    p.GetValue(outDir)!, settings, p.GetValue(vae) ?? ShippedModels.Vae(),
                    new SyncProgress<(int Done, int Total)>(x => v.Report((x.Done, x.Total,
                        $"shard {x.Done}/{x.Total}"))), ct));
                var s = store.Settings;
                Console.WriteLine($"keyframe store: {s.Stories:N0} stories x {s.UnitsPerStory} units x {s.Length} " +
                    $"keyframes = {(long)s.Stories * s.UnitsPerStory * s.Length:N0} latents in " +
                    $"{Path.GetFullPath(p.GetValue(outDir)!)}");
                return 0;
            });
    }

    private static Command Import()
    {
        var videos = new Argument<string[]>("VIDEO") { Description = "video files, one episode each",
            Arity = ArgumentArity.OneOrMore };
        var outDir = CliOptions.Text("--out", "dataset folder to write", "DIR", true);
        var captions = CliOptions.Text("--captions",
            "caption files, comma-separated, one per video: SRT, WebVTT or JSONL " +
                                                     "({\"start\": frame, \"end\": frame, \"text\": ...})", "FILE,...");
        var fps = CliOptions.Number("--fps", "frame rate to sample at", 24, 0.01, 1000);
        var size = CliOptions.Int("--size", "frame width and height (even)", 64, 2, 4096);
        var fit = CliOptions.Choice("--fit", "how frames are fitted to the square", "crop", "letterbox");
        var quiet = CliOptions.Flag("--quiet", "no progress output");
        var c = new Command("import", "Import footage through ffmpeg, one episode per video.")
            .With(outDir, captions, fps, size, fit, quiet);
        c.Arguments.Add(videos);
        return c.Runs((p, ct) =>
        {
            int s = p.GetValue(size);
            if (s % 2 != 0) throw new LongshotException($"--size must be even, got {s}.");
            var files = p.GetValue(videos)!;
            var caps = p.GetValue(captions)?.Split(',').ToList();
            if (caps != null && caps.Count != files.Length)
                throw new LongshotException($"--captions: {files.Length} video(s) but {caps.Count} caption file(s) " +
                    $"(comma-separated, one per video).");
            var sources = files.Select((v, i) => (v, caps?[i])).ToList();
            var mode = p.GetValue(fit) == "letterbox" ? FitMode.Letterbox : FitMode.CenterCrop;
            double rate = p.GetValue(fps);
            var m = new ProgressView(p.GetValue(quiet))
                .Run("import", v => DatasetBuilder.Import(p.GetValue(outDir)!, sources, s, s, rate, mode,
                new SyncProgress<BuildProgress>(b => v.Report((b.Episode, sources.Count,
                    $"video {Math.Min(b.Episode + 1, sources.Count)}/{sources.Count}, frame {b.Frame}"))), ct));
            Console.WriteLine($"imported {m.Episodes.Count} video(s), {m.Episodes.Sum(e => (long)e.Frames):N0} " +
                $"frames at {s}x{s}, " +
                              $"{rate} fps, to {Path.GetFullPath(p.GetValue(outDir)!)}");
            return 0;
        });
    }

    private static Command Info()
    {
        var dir = Folder();
        var json = CliOptions.Flag("--json", "print the manifest as JSON");
        var c = new Command("info", "Episodes, frames, resolution, vocabulary size, splits.").With(json);
        c.Arguments.Add(dir);
        return c.Runs((p, _) =>
        {
            using var store = DatasetStore.Open(p.GetValue(dir)!);
            var m = store.Manifest;
            if (p.GetValue(json)) { Console.WriteLine(m.ToJson()); return 0; }
            Console.WriteLine($"dataset     : {store.Root}");
            Console.WriteLine($"source      : {m.Source}");
            Console.WriteLine($"episodes    : {m.Episodes.Count}");
            Console.WriteLine($"frames      : {m.Episodes.Sum(e => (long)e.Frames):N0} " +
                              $"(per episode {string.Join(", " +
                                  "", m.Episodes.Select(e => e.Frames).Distinct().Take(5))})");
            Console.WriteLine($"resolution  : {m.Width}x{m.Height} at {m.Fps} fps");
            Console.WriteLine($"vocabulary  : {m.VocabularySize} words");
            foreach (var split in new[] { Splits.Train, Splits.Validation, Splits.Test })
                Console.WriteLine($"{split,-12}: {m.Episodes.Count(e => e.Split == split)} episode(s)");
            long bytes = m.Episodes.Sum(e => e.FramesFile.Size + e.CaptionsFile.Size + (e.AnnotationsFile?.Size ?? 0));
            Console.WriteLine($"size on disk: {bytes / 1e6:F1} MB");
            return 0;
        });
    }

    private static Command Verify()
    {
        var dir = Folder();
        var c = new Command("verify",
            "Recompute every file's SHA-256 against the manifest (exit 1 when a file is damaged).");
        c.Arguments.Add(dir);
        return c.Runs((p, _) =>
        {
            using var store = DatasetStore.Open(p.GetValue(dir)!);
            var bad = store.Verify();
            foreach (var b in bad) Console.Error.WriteLine($"checksum mismatch: {b}");
            Console.WriteLine(bad.Count == 0 ? $"all {store.Manifest.Episodes.Count} episode(s) intact"
                : $"{bad.Count} file(s) damaged");
            return bad.Count == 0 ? 0 : 1;
        });
    }

    private static Command Render()
    {
        var dir = Folder();
        var outPath = CliOptions.Text("--out", ".mp4/.gif/.y4m video, a PNG folder, or a contact sheet (.png)", "FILE",
            true);
        var episode = CliOptions.Int("--episode", "episode index", 0, 0);
        var from = CliOptions.Int("--from", "first frame", 0, 0);
        var to = CliOptions.OptionalInt("--to", "end frame, exclusive (default: the episode's end)", 1);
        var every = CliOptions.Int("--sheet-every", "contact sheet: one tile every N frames (0: about 48 tiles)", 0, 0);
        var quiet = CliOptions.Flag("--quiet", "no progress output");
        var c = new Command("render", "Write frames of an episode as a video, PNG frames, or a contact sheet.")
            .With(outPath, episode, from, to, every, quiet);
        c.Arguments.Add(dir);
        return c.Runs((p, ct) =>
        {
            string path = p.GetValue(outPath)!;
            bool sheet = Path.GetExtension(path).Equals(".png", StringComparison.OrdinalIgnoreCase);
            if (!sheet) VideoWriters.CheckPath(path, "--out");
            using var store = DatasetStore.Open(p.GetValue(dir)!);
            int epi = p.GetValue(episode), start = p.GetValue(from);
            if (epi >= store.Episodes.Count)
                throw new LongshotException($"--episode {epi} does not exist (the store has {store.Episodes.Count}).");
            var ep = store.Episodes[epi];
            int end = Math.Min(ep.FrameCount, p.GetValue(to) ?? ep.FrameCount);
            if (start >= end) throw new LongshotException($"--from/--to: empty frame range [{start}, {end}).");
            int step = p.GetValue(every);
            using IVideoWriter w = sheet
                ? new ContactSheet(path, step > 0 ? step : Math.Max(1, (end - start) / 48), 8)
                : VideoWriters.Create(path, store.Manifest.Fps);
            new ProgressView(p.GetValue(quiet)).Run("render", v =>
            {
                for (int i = start; i < end; i++)
                {
                    ct.ThrowIfCancellationRequested();
                    w.Write(ep.ReadFrame(i));
                    v.Report((i - start + 1, end - start, $"frame {i}"));
                }
                w.Complete();
                return 0;
            });
            Console.WriteLine($"wrote frames {start}..{end - 1} of episode {epi} to {Path.GetFullPath(path)}");
            return 0;
        });
    }
}
