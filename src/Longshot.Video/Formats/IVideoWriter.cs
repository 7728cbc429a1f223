using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Video.Imaging;

namespace Longshot.Video.Formats;

/// <summary>
/// A streamed video output: frames are written as they come and memory stays bounded whatever the length.
/// The file appears at its final path only after <see cref="Complete"/>; disposing without completing
/// removes the partial output, so an interrupted job never leaves a file that looks finished.
/// </summary>
public interface IVideoWriter : IDisposable
{
    /// <summary>Frames written so far.</summary>
    int FrameCount { get; }

    /// <summary>Appends one frame (all frames must have the same size).</summary>
    void Write(Frame frame);

    /// <summary>Finishes the file and moves it into place.</summary>
    void Complete();
}

/// <summary>Shared bookkeeping for writers that produce one file: a temporary sibling renamed on completion.</summary>
public abstract class FileVideoWriter : IVideoWriter
{
    private bool _completed, _disposed;

    /// <summary>The final path.</summary>
    public string Path { get; }

    /// <summary>Where the file is written until it is complete.</summary>
    protected string TempPath { get; }

    public int FrameCount { get; private set; }

    /// <summary>Width and height fixed by the first frame.</summary>
    protected int Width { get; private set; }
    protected int Height { get; private set; }

    protected FileVideoWriter(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        TempPath = TempFiles.For(Path);
    }

    public void Write(Frame frame)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed) throw new InvalidOperationException($"{Path}: writer is already complete.");
        if (FrameCount == 0) { Width = frame.Width; Height = frame.Height; Begin(frame); }
        else if (frame.Width != Width || frame.Height != Height)
            throw new LongshotException($"{Path}: frame {FrameCount} is {frame.Width}x{frame.Height}, but the video " +
                $"is {Width}x{Height}.");
        WriteFrame(frame);
        FrameCount++;
    }

    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed) return;
        if (FrameCount == 0) throw new InvalidOperationException($"{Path}: no frames were written.");
        Finish();
        File.Move(TempPath, Path, overwrite: true);
        _completed = true;
    }

    /// <summary>Called with the first frame, before it is written.</summary>
    protected abstract void Begin(Frame first);

    protected abstract void WriteFrame(Frame frame);

    /// <summary>Flushes and closes the temporary file.</summary>
    protected abstract void Finish();

    /// <summary>Releases streams and processes without finishing the file.</summary>
    protected virtual void Abort() { }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_completed)
        {
            try { Abort(); } catch (Exception) { /* the partial file is removed below either way */ }
            try { File.Delete(TempPath); } catch (IOException) { }
        }
        GC.SuppressFinalize(this);
    }
}
