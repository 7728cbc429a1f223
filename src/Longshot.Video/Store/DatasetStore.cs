using System.Text.Json;
using Longshot.Tensors;
using Longshot.Video.Imaging;
using Longshot.Video.Toonworld;

namespace Longshot.Video.Store;

/// <summary>Raised when a folder is not a complete, intact dataset store.</summary>
public sealed class DatasetStoreException(string message) : LongshotException(message);

/// <summary>
/// A dataset store opened for reading: many long episodes with O(1) access to any frame, its caption and its
/// ground-truth annotation. Only complete stores open (the manifest is written last).
/// </summary>
public sealed class DatasetStore : IDisposable
{
    public string Root { get; }
    public Manifest Manifest { get; }
    public IReadOnlyList<StoredEpisode> Episodes { get; }

    private DatasetStore(string root, Manifest m)
    {
        Root = root; Manifest = m;
        Episodes = m.Episodes.Select(e => new StoredEpisode(root, e)).ToList();
    }

    /// <summary>Opens a store, checking that it is complete and that every file has its recorded size.</summary>
    public static DatasetStore Open(string dir)
    {
        var root = Path.GetFullPath(dir);
        if (!Directory.Exists(root)) throw new LongshotException($"dataset folder not found: {root}");
        var mp = Path.Combine(root, Manifest.FileName);
        if (!File.Exists(mp))
            throw new DatasetStoreException(File.Exists(Path.Combine(root, ".partial.json"))
                ? $"{root} is an incomplete dataset (its build was interrupted); rerun the same command to finish it."
                : $"{root} is not a dataset store (no {Manifest.FileName}).");
        Manifest m;
        try { m = Manifest.FromJson(File.ReadAllText(mp), mp); }
        catch (LongshotException e) { throw new DatasetStoreException(e.Message); }
        if (m.Format != Manifest.CurrentFormat)
            throw new DatasetStoreException($"{mp}: format '{m.Format}' is not supported (expected " +
            $"{Manifest.CurrentFormat}).");
        if (!m.Complete) throw new DatasetStoreException($"{root} is an incomplete dataset.");
        foreach (var e in m.Episodes)
            foreach (var f in new[] { e.FramesFile, e.CaptionsFile, e.AnnotationsFile })
            {
                if (f == null) continue;
                var full = Path.Combine(root, f.Path);
                if (!File.Exists(full)) throw new DatasetStoreException($"{root}: {f.Path} is missing.");
                if (new FileInfo(full).Length != f.Size)
                    throw new DatasetStoreException($"{root}: {f.Path} has {new FileInfo(full).Length} bytes, the " +
                    $"manifest says {f.Size} (truncated or replaced).");
            }
        return new DatasetStore(root, m);
    }

    /// <summary>Episodes of one split (train, validation or test).</summary>
    public IEnumerable<StoredEpisode> Split(string split) => Episodes.Where(e => e.Entry.Split == split);

    /// <summary>Recomputes every file's SHA-256; returns the files that do not match.</summary>
    public List<string> Verify() => Manifest.Episodes
        .SelectMany(e => new[] { e.FramesFile, e.CaptionsFile, e.AnnotationsFile })
        .Where(f => f != null && StoredFile.Of(Root, f.Path).Sha256 != f.Sha256).Select(f => f!.Path).ToList();

    public void Dispose()
    {
        foreach (var e in Episodes) e.Dispose();
    }
}

/// <summary>One stored episode: frames read on demand, captions and annotations loaded on first use.</summary>
public sealed class StoredEpisode : IDisposable
{
    private readonly Lazy<FrameFileReader> _frames;
    private readonly Lazy<string[]> _captions;
    private readonly Lazy<FrameAnnotation[]?> _annotations;

    public EpisodeEntry Entry { get; }
    public int FrameCount => Entry.Frames;

    internal StoredEpisode(string root, EpisodeEntry e)
    {
        Entry = e;
        _frames = new Lazy<FrameFileReader>(() => new FrameFileReader(Path.Combine(root, e.FramesFile.Path)));
        _captions = new Lazy<string[]>(() =>
            JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(root, e.CaptionsFile.Path)))!);
        _annotations = new Lazy<FrameAnnotation[]?>(() => e.AnnotationsFile == null ? null
            : File.ReadLines(Path.Combine(root, e.AnnotationsFile.Path))
                .Select(l => JsonSerializer.Deserialize<FrameAnnotation>(l, Manifest.JsonLine)!).ToArray());
    }

    /// <summary>Frame <paramref name="index"/>, read without touching the others.</summary>
    public Frame ReadFrame(int index) => _frames.Value.ReadFrame(index);

    public string Caption(int index) => _captions.Value[index];

    /// <summary>Ground truth of a frame (generated data only; null for imported footage).</summary>
    public FrameAnnotation? Annotation(int index) => _annotations.Value?[index];

    public void Dispose()
    {
        if (_frames.IsValueCreated) _frames.Value.Dispose();
    }
}
