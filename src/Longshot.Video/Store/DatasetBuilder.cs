using System.Text.Json;
using System.Text;
using Longshot.Tensors.IO;
using Longshot.Tensors;
using Longshot.Video.Formats;
using Longshot.Video.Toonworld;

namespace Longshot.Video.Store;

/// <summary>Progress of a store build: episodes done, frames done in the current episode.</summary>
public sealed record BuildProgress(int Episode, int Episodes, int Frame, int Frames);

/// <summary>
/// Writes dataset stores. Every file is written atomically; a hidden progress file records finished episodes
/// with their checksums, and the manifest is written last. A build that is interrupted leaves no manifest, so
/// the folder never opens as a store; running the same command again verifies and keeps the finished
/// episodes and continues with the rest.
/// </summary>
public static class DatasetBuilder
{
    private const string PartialName = ".partial.json";

    private sealed record Partial(Dictionary<string, string> Settings, List<EpisodeEntry> Done);

    /// <summary>Generates <paramref name="episodes"/> Toonworld episodes into <paramref name="dir"/>.</summary>
    public static Manifest GenerateToonworld(string dir, ToonworldSettings settings, int episodes,
        IProgress<BuildProgress>? progress = null, CancellationToken ct = default)
    {
        settings.Validate();
        if (episodes < 1) throw new LongshotException($"episodes must be >= 1, got {episodes}.");
        var identity = new Dictionary<string, string>
        {
            ["generator"] = "toonworld/1", ["seed"] = settings.Seed.ToString(), ["episodes"] = episodes.ToString(),
            ["frames"] = settings.Frames.ToString(), ["cast"] = settings.CastSize.ToString(),
        };
        return Build(dir, "toonworld", settings.Width, settings.Height, settings.Fps, identity, episodes,
            (index, root) =>
        {
            var ep = new ToonworldEpisode(settings, index);
            var captions = new List<string>(ep.FrameCount);
            var annotations = new StringBuilder();
            string name = EpisodeName(index);
            using (var w = new FrameFileWriter(Path.Combine(root, "episodes", name + ".lsv"), settings.Fps))
            {
                int n = 0;
                foreach (var f in ep.Frames(ct: ct))
                {
                    w.Write(f.Frame);
                    captions.Add(f.Caption);
                    annotations.Append(JsonSerializer.Serialize(f.Annotation, Manifest.JsonLine)).Append('\n');
                    if (++n % 256 == 0) progress?.Report(new BuildProgress(index, episodes, n, ep.FrameCount));
                }
                w.Complete();
            }
            return (captions, annotations.ToString());
        }, progress, ct);
    }

    /// <summary>Imports videos (one episode each) with optional caption files (SRT, WebVTT or JSONL), through
    /// ffmpeg.</summary>
    public static Manifest Import(string dir, IReadOnlyList<(string Video, string? Captions)> sources, int width,
        int height, double fps,
        FitMode fit, IProgress<BuildProgress>? progress = null, CancellationToken ct = default)
    {
        if (sources.Count == 0) throw new LongshotException("import: no input videos.");
        if (!FFmpeg.IsAvailable) throw new FFmpegMissingException();
        foreach (var (v, c) in sources)
        {
            if (!File.Exists(v)) throw new LongshotException($"video file not found: {v}");
            if (c != null && !File.Exists(c)) throw new LongshotException($"caption file not found: {c}");
        }
        var identity = new Dictionary<string, string>
        {
            ["generator"] = "import/1", ["fit"] = fit.ToString(),
            ["inputs"] = string.Join("|",
                sources.Select(s => $"{Path.GetFullPath(s.Video)}:{new FileInfo(s.Video).Length}:{s.Captions}")),
        };
        return Build(dir, "import", width, height, fps, identity, sources.Count, (index, root) =>
        {
            var (video, captionPath) = sources[index];
            string name = EpisodeName(index);
            int n = 0;
            using (var w = new FrameFileWriter(Path.Combine(root, "episodes", name + ".lsv"), fps))
            {
                foreach (var f in FFmpeg.Read(video, width, height, fps, fit, ct))
                {
                    w.Write(f);
                    if (++n % 256 == 0) progress?.Report(new BuildProgress(index, sources.Count, n, 0));
                }
                if (n == 0) throw new MediaFormatException($"{video}: no frames could be decoded.");
                w.Complete();
            }
            var captions = captionPath != null ? CaptionTrack.Load(captionPath, n, fps) : Enumerable.Repeat("", n)
                .ToArray();
            return (captions.ToList(), (string?)null);
        }, progress, ct);
    }

    public static string EpisodeName(int index) => $"ep_{index:D5}";

    private static Manifest Build(string dir, string source, int width, int height, double fps,
        Dictionary<string, string> identity, int count,
        Func<int, string, (List<string> Captions, string? Annotations)> writeEpisode,
            IProgress<BuildProgress>? progress, CancellationToken ct)
    {
        var root = Path.GetFullPath(dir);
        var manifestPath = Path.Combine(root, Manifest.FileName);
        var partialPath = Path.Combine(root, PartialName);
        if (File.Exists(manifestPath))
        {
            var existing = Manifest.FromJson(File.ReadAllText(manifestPath), manifestPath);
            if (existing.Complete && SameSettings(existing.Settings, identity)) return existing;
            throw new IOException($"{root} already holds a different dataset; choose another folder or delete it.");
        }
        var done = new List<EpisodeEntry>();
        if (File.Exists(partialPath))
        {
            var partial = JsonSerializer.Deserialize<Partial>(File.ReadAllText(partialPath), Manifest.Json)!;
            if (!SameSettings(partial.Settings, identity))
                throw new IOException($"{root} holds an interrupted build with other settings; delete it or rerun " +
                    $"with the same options.");
            done = partial.Done.Where(e => Intact(root, e)).ToList();
        }
        else if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
            throw new IOException($"{root} exists and is not empty; choose a new folder for the dataset.");
        Directory.CreateDirectory(Path.Combine(root, "episodes"));

        for (int i = 0; i < count; i++)
        {
            ct.ThrowIfCancellationRequested();
            if (done.Any(e => e.Index == i)) continue;
            var (captions, annotations) = writeEpisode(i, root);
            string name = EpisodeName(i);
            string capRel = $"episodes/{name}.captions.json", annRel = $"episodes/{name}.annotations.jsonl";
            AtomicFile.WriteAllText(Path.Combine(root, capRel), JsonSerializer.Serialize(captions));
            if (annotations != null) AtomicFile.WriteAllText(Path.Combine(root, annRel), annotations);
            done.Add(new EpisodeEntry(i, name, captions.Count, Splits.For(i),
                StoredFile.Of(root, $"episodes/{name}.lsv"), StoredFile.Of(root, capRel),
                    annotations != null ? StoredFile.Of(root, annRel) : null));
            AtomicFile.WriteAllText(partialPath, JsonSerializer.Serialize(new Partial(identity, done), Manifest.Json));
            progress?.Report(new BuildProgress(i + 1, count, captions.Count, captions.Count));
        }
        var vocab = new HashSet<string>();
        foreach (var e in done)
            foreach (var cap in JsonSerializer.Deserialize<List<string>>(File.ReadAllText(Path.Combine(root,
                e.CaptionsFile.Path)))!.Distinct())
                foreach (var w in Words.Of(cap)) vocab.Add(w);
        var manifest = new Manifest
        {
            Complete = true, Source = source, Width = width, Height = height, Fps = fps, Settings = identity,
            Episodes = done.OrderBy(e => e.Index).ToList(), VocabularySize = vocab.Count,
        };
        AtomicFile.WriteAllText(manifestPath, manifest.ToJson());
        File.Delete(partialPath);
        return manifest;
    }

    private static bool SameSettings(Dictionary<string, string> a, Dictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private static bool Intact(string root, EpisodeEntry e) =>
        new[] { e.FramesFile, e.CaptionsFile,
            e.AnnotationsFile }.All(f => f == null
            || (File.Exists(Path.Combine(root, f.Path)) && StoredFile.Of(root, f.Path) == f));
}
