using System.Security.Cryptography;
using System.Text.Json.Serialization;
using System.Text.Json;
using Longshot.Tensors.IO;

namespace Longshot.Video.Store;

/// <summary>One file of a store with its size and SHA-256.</summary>
public sealed record StoredFile(string Path, long Size, string Sha256)
{
    public static StoredFile Of(string root, string relative)
    {
        var full = System.IO.Path.Combine(root, relative);
        using var s = File.OpenRead(full);
        return new StoredFile(relative.Replace('\\', '/'), s.Length, Convert.ToHexStringLower(SHA256.HashData(s)));
    }
}

/// <summary>An episode of the store: where its frames, captions and annotations are, and its split.</summary>
public sealed record EpisodeEntry(int Index, string Name, int Frames, string Split, StoredFile FramesFile,
    StoredFile CaptionsFile, StoredFile? AnnotationsFile);

/// <summary>The store's table of contents, written last: a store without it (or with complete = false) is not a
/// store.</summary>
public sealed record Manifest
{
    public const string FileName = "manifest.json";
    public const string CurrentFormat = "longshot-dataset/1";

    public string Format { get; init; } = CurrentFormat;
    public bool Complete { get; init; }
    public string Source { get; init; } = "";
    public int Width { get; init; }
    public int Height { get; init; }
    public double Fps { get; init; }
    public Dictionary<string, string> Settings { get; init; } = new();
    public List<EpisodeEntry> Episodes { get; init; } = new();
    public int VocabularySize { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The same naming, one object per line (JSONL).</summary>
    internal static readonly JsonSerializerOptions JsonLine = new(Json) { WriteIndented = false };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static Manifest FromJson(string json, string path)
    {
        return StrictJson.Parse<Manifest>(json, path, "dataset manifest", Json);
    }
}

/// <summary>Train / validation / test assignment by episode index: 1 in 10 each for validation and test.</summary>
public static class Splits
{
    public const string Train = "train", Validation = "validation", Test = "test";

    public static string For(int episode) => (episode % 10) switch { 1 => Validation, 2 => Test, _ => Train };
}
