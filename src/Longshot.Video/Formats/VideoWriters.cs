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
            _ => throw new ArgumentException($"unsupported video output '{ext}' for {path}: use .mp4, .gif, .y4m or a folder name for PNG frames."),
        };
    }

    /// <summary>MP4 when ffmpeg is installed, otherwise the built-in GIF; returns the path used.</summary>
    public static (IVideoWriter Writer, string Path) CreateBest(string pathWithoutExtension, double fps)
    {
        if (FFmpeg.IsAvailable) { var p = pathWithoutExtension + ".mp4"; return (new Mp4Writer(p, fps), p); }
        var g = pathWithoutExtension + ".gif";
        return (new GifWriter(g, fps), g);
    }
}
