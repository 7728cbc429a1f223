using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Video.Imaging;

namespace Longshot.Video.Formats;

/// <summary>Writes frames as numbered PNG files (frame_000000.png, ...) into a folder that appears when
/// complete.</summary>
public sealed class PngSequenceWriter : IVideoWriter
{
    private readonly string _dir, _tmp;
    private bool _completed, _disposed;

    public int FrameCount { get; private set; }

    public PngSequenceWriter(string directory)
    {
        _dir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        if (Directory.Exists(_dir) && Directory.EnumerateFileSystemEntries(_dir).Any())
            throw new LongshotException($"{_dir} already exists and is not empty; choose another folder.");
        _tmp = TempFiles.For(_dir);
        Directory.CreateDirectory(_tmp);
    }

    public void Write(Frame frame)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        File.WriteAllBytes(Path.Combine(_tmp, $"frame_{FrameCount:D6}.png"),
            Png.Encode(frame, System.IO.Compression.CompressionLevel.Fastest));
        FrameCount++;
    }

    public void Complete()
    {
        if (_completed) return;
        if (Directory.Exists(_dir)) Directory.Delete(_dir);
        Directory.Move(_tmp, _dir);
        _completed = true;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_completed && Directory.Exists(_tmp)) Directory.Delete(_tmp, true);
    }
}
