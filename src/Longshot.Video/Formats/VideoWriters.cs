using Longshot.Tensors;

namespace Longshot.Video.Formats;

/// <summary>Chooses a writer from the output path.</summary>
public static class VideoWriters
{
    /// <summary>
    /// .mp4 (ffmpeg), .gif, .y4m, or a folder of PNG frames for a path without extension.
    /// </summary>
    public static IVideoWriter Create(string path, double fps)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        return ext switch
        {
            ".mp4" => new Mp4Writer(path, fps),
            ".gif" => new GifWriter(path, fps),
            ".y4m" => new Y4mWriter(path, fps),
            "" => new PngSequenceWriter(path),
            _ => throw new LongshotException(Unsupported(path)),
        };
    }

    private static string Unsupported(string path) =>
        $"unsupported video output '{Path.GetExtension(path)}' for {path}: use .mp4, .gif, .y4m or a folder name for " +
            $"PNG frames.";

    /// <summary>
    /// Checks, before any work, that a video can be written at <paramref name="path"/>: a known extension, and no
    /// file where a folder must be. The error names <paramref name="option"/> and the problem.
    /// </summary>
    public static void CheckPath(string path, string option)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".mp4" or ".gif" or ".y4m" or ""))
            throw new LongshotException($"{option}: {Unsupported(path)}");
        if (ext == ".mp4" && !FFmpeg.IsAvailable)
            throw new LongshotException($"{option}: {new FFmpegMissingException().Message}");
        var full = Path.GetFullPath(path);
        if (ext != "" && Directory.Exists(full))
            throw new LongshotException($"{option}: {path} is a folder, not a file.");
        if (ext == "" && File.Exists(full))
            throw new LongshotException($"{option}: {path} is a file, not a folder for PNG frames.");
        for (var dir = Path.GetDirectoryName(full); dir != null; dir = Path.GetDirectoryName(dir))
        {
            if (Directory.Exists(dir)) break;
            if (File.Exists(dir))
                throw new LongshotException($"{option}: {dir} is a file, so {path} cannot be written under it.");
        }
    }

    /// <summary>MP4 when ffmpeg is installed, otherwise the built-in GIF; returns the path used.</summary>
    public static (IVideoWriter Writer, string Path) CreateBest(string pathWithoutExtension, double fps)
    {
        if (FFmpeg.IsAvailable) { var p = pathWithoutExtension + ".mp4"; return (new Mp4Writer(p, fps), p); }
        var g = pathWithoutExtension + ".gif";
        return (new GifWriter(g, fps), g);
    }
}
