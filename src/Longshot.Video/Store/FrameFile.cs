using System.Buffers.Binary;
using System.IO.Compression;
using Longshot.Tensors;
using Longshot.Video.Formats;
using Longshot.Video.Imaging;
using Microsoft.Win32.SafeHandles;

namespace Longshot.Video.Store;

/// <summary>
/// An episode's frames in one file with O(1) access to any frame ("LSV1"): a fixed header, each frame
/// deflate-compressed after a left-neighbour delta filter, and an index at the end with every frame's offset,
/// length and CRC-32 of its pixels. Frames are written as they come; the index and header go last.
/// </summary>
public static class FrameFile
{
    internal const int HeaderSize = 64;
    internal static ReadOnlySpan<byte> Magic => "LSV1"u8;

    internal static void Filter(byte[] rgb, int width, byte[] dst)
    {
        int stride = width * 3;
        for (int row = 0; row < rgb.Length; row += stride)
        {
            for (int i = 0; i < 3 && i < stride; i++) dst[row + i] = rgb[row + i];
            for (int i = 3; i < stride; i++) dst[row + i] = (byte)(rgb[row + i] - rgb[row + i - 3]);
        }
    }

    internal static void Unfilter(byte[] data, int width)
    {
        int stride = width * 3;
        for (int row = 0; row < data.Length; row += stride)
            for (int i = 3; i < stride; i++) data[row + i] = (byte)(data[row + i] + data[row + i - 3]);
    }
}

/// <summary>Streams frames into an LSV1 file; the file appears at its path when <see cref="FileVideoWriter.Complete"/>
/// runs.</summary>
public sealed class FrameFileWriter : FileVideoWriter
{
    private readonly double _fps;
    private FileStream? _s;
    private readonly List<(long Offset, int Length, uint Crc)> _index = new();
    private byte[] _filtered = Array.Empty<byte>();
    private readonly MemoryStream _buf = new();

    public FrameFileWriter(string path, double fps) : base(path) => _fps = fps;

    protected override void Begin(Frame first)
    {
        _s = new FileStream(TempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        _s.Write(new byte[FrameFile.HeaderSize]);
        _filtered = new byte[first.Rgb.Length];
    }

    protected override void WriteFrame(Frame f)
    {
        FrameFile.Filter(f.Rgb, f.Width, _filtered);
        _buf.SetLength(0);
        using (var z = new DeflateStream(_buf, CompressionLevel.Fastest, leaveOpen: true)) z.Write(_filtered);
        _index.Add((_s!.Position, (int)_buf.Length, Crc32.Compute(f.Rgb)));
        _buf.Position = 0;
        _buf.CopyTo(_s);
    }

    protected override void Finish()
    {
        long indexOffset = _s!.Position;
        var entry = new byte[16];
        foreach (var (off, len, crc) in _index)
        {
            BinaryPrimitives.WriteInt64LittleEndian(entry, off);
            BinaryPrimitives.WriteInt32LittleEndian(entry.AsSpan(8), len);
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(12), crc);
            _s.Write(entry);
        }
        var h = new byte[FrameFile.HeaderSize];
        FrameFile.Magic.CopyTo(h);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(4), 1);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(8), Width);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(12), Height);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(16), FrameCount);
        BinaryPrimitives.WriteDoubleLittleEndian(h.AsSpan(20), _fps);
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(28), indexOffset);
        _s.Position = 0;
        _s.Write(h);
        _s.Flush(true);
        _s.Dispose();
    }

    protected override void Abort() => _s?.Dispose();
}

/// <summary>Random access to the frames of an LSV1 file; thread-safe (positional reads).</summary>
public sealed class FrameFileReader : IDisposable
{
    private readonly SafeFileHandle _h;
    private readonly long[] _offsets;
    private readonly int[] _lengths;
    private readonly uint[] _crcs;

    public string Path { get; }
    public int Width { get; }
    public int Height { get; }
    public int FrameCount { get; }
    public double Fps { get; }

    public FrameFileReader(string path)
    {
        Path = path;
        if (!File.Exists(path)) throw new LongshotException($"frame file not found: {path}");
        _h = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            long size = RandomAccess.GetLength(_h);
            var head = new byte[FrameFile.HeaderSize];
            if (size < FrameFile.HeaderSize || RandomAccess.Read(_h, head, 0) != head.Length || !head.AsSpan(0, 4)
                .SequenceEqual(FrameFile.Magic))
                throw new MediaFormatException($"{path}: not a Longshot frame file (LSV1), or truncated.");
            Width = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(8));
            Height = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(12));
            FrameCount = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(16));
            Fps = BinaryPrimitives.ReadDoubleLittleEndian(head.AsSpan(20));
            long indexOffset = BinaryPrimitives.ReadInt64LittleEndian(head.AsSpan(28));
            if (Width <= 0 || Height <= 0 || FrameCount < 0 || indexOffset < FrameFile.HeaderSize
                || indexOffset + 16L * FrameCount != size)
                throw new MediaFormatException($"{path}: header does not match the file size (truncated or corrupt).");
            var index = new byte[16 * FrameCount];
            RandomAccess.Read(_h, index, indexOffset);
            _offsets = new long[FrameCount]; _lengths = new int[FrameCount]; _crcs = new uint[FrameCount];
            for (int i = 0; i < FrameCount; i++)
            {
                _offsets[i] = BinaryPrimitives.ReadInt64LittleEndian(index.AsSpan(16 * i));
                _lengths[i] = BinaryPrimitives.ReadInt32LittleEndian(index.AsSpan(16 * i + 8));
                _crcs[i] = BinaryPrimitives.ReadUInt32LittleEndian(index.AsSpan(16 * i + 12));
                if (_offsets[i] < FrameFile.HeaderSize || _lengths[i] < 0 || _offsets[i] + _lengths[i] > indexOffset)
                    throw new MediaFormatException($"{path}: index entry {i} points outside the file (corrupt).");
            }
        }
        catch
        {
            _h.Dispose();
            throw;
        }
    }

    /// <summary>Reads and checks one frame.</summary>
    public Frame ReadFrame(int index)
    {
        if ((uint)index >= (uint)FrameCount)
            throw new ArgumentOutOfRangeException(nameof(index),
            $"frame {index} is outside {Path}'s {FrameCount} frames.");
        var comp = new byte[_lengths[index]];
        if (RandomAccess.Read(_h, comp, _offsets[index]) != comp.Length)
            throw new MediaFormatException($"{Path}: frame {index} is truncated.");
        var rgb = new byte[Width * Height * 3];
        try
        {
            using var z = new DeflateStream(new MemoryStream(comp), CompressionMode.Decompress);
            int read = 0;
            while (read < rgb.Length)
            {
                int n = z.Read(rgb, read, rgb.Length - read);
                if (n == 0) break;
                read += n;
            }
            if (read != rgb.Length)
                throw new MediaFormatException($"{Path}: frame {index} decompresses to {read} bytes, expected " +
                $"{rgb.Length} (corrupt).");
        }
        catch (InvalidDataException) { throw new MediaFormatException($"{Path}: frame {index} is corrupt (bad " +
            $"compressed data)."); }
        FrameFile.Unfilter(rgb, Width);
        if (Crc32.Compute(rgb) != _crcs[index])
            throw new MediaFormatException($"{Path}: frame {index} fails its checksum (corrupt).");
        return new Frame(Width, Height, rgb);
    }

    public void Dispose() => _h.Dispose();
}
