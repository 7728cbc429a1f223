using System.Globalization;
using System.Text;
using Longshot.Tensors;
using Longshot.Video.Imaging;

namespace Longshot.Video.Formats;

/// <summary>Chroma layouts of YUV4MPEG2 files.</summary>
public enum Y4mChroma
{
    /// <summary>Full-resolution chroma (C444).</summary>
    C444,
    /// <summary>Half-resolution chroma in both directions (C420jpeg and the other 4:2:0 tags).</summary>
    C420,
}

/// <summary>One Y4M frame as planes: Y (W x H), then U and V (full or half resolution).</summary>
public sealed record YuvPlanes(byte[] Y, byte[] U, byte[] V);

/// <summary>BT.601 limited-range conversions between RGB frames and YUV planes.</summary>
public static class Yuv
{
    public static YuvPlanes FromRgb(Frame f, Y4mChroma chroma)
    {
        int w = f.Width, h = f.Height;
        var y = new byte[w * h]; var u = new byte[w * h]; var v = new byte[w * h];
        for (int p = 0; p < w * h; p++)
        {
            float r = f.Rgb[p * 3], g = f.Rgb[p * 3 + 1], b = f.Rgb[p * 3 + 2];
            y[p] = Clamp(16 + (65.481f * r + 128.553f * g + 24.966f * b) / 255f);
            u[p] = Clamp(128 + (-37.797f * r - 74.203f * g + 112.0f * b) / 255f);
            v[p] = Clamp(128 + (112.0f * r - 93.786f * g - 18.214f * b) / 255f);
        }
        if (chroma == Y4mChroma.C444) return new YuvPlanes(y, u, v);
        return new YuvPlanes(y, Halve(u, w, h), Halve(v, w, h));
    }

    public static Frame ToRgb(YuvPlanes p, int w, int h, Y4mChroma chroma)
    {
        var f = new Frame(w, h);
        int cw = chroma == Y4mChroma.C444 ? w : (w + 1) / 2;
        for (int yy = 0; yy < h; yy++)
            for (int x = 0; x < w; x++)
            {
                int ci = chroma == Y4mChroma.C444 ? yy * w + x : (yy / 2) * cw + x / 2;
                float Y = 1.164f * (p.Y[yy * w + x] - 16), U = p.U[ci] - 128, V = p.V[ci] - 128;
                int o = (yy * w + x) * 3;
                f.Rgb[o] = Clamp(Y + 1.596f * V);
                f.Rgb[o + 1] = Clamp(Y - 0.392f * U - 0.813f * V);
                f.Rgb[o + 2] = Clamp(Y + 2.017f * U);
            }
        return f;
    }

    private static byte Clamp(float v) => (byte)Math.Clamp(MathF.Round(v), 0, 255);

    private static byte[] Halve(byte[] plane, int w, int h)
    {
        int cw = (w + 1) / 2, ch = (h + 1) / 2;
        var o = new byte[cw * ch];
        for (int y = 0; y < ch; y++)
            for (int x = 0; x < cw; x++)
            {
                int s = 0, n = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++)
                    {
                        int sx = 2 * x + dx, sy = 2 * y + dy;
                        if (sx < w && sy < h) { s += plane[sy * w + sx]; n++; }
                    }
                o[y * cw + x] = (byte)((s + n / 2) / n);
            }
        return o;
    }

    public static int ChromaSize(int w, int h, Y4mChroma c) => c == Y4mChroma.C444 ? w * h : ((w + 1) / 2)
        * ((h + 1) / 2);
}

/// <summary>Streams frames into a YUV4MPEG2 (.y4m) file.</summary>
public sealed class Y4mWriter : FileVideoWriter
{
    private readonly double _fps;
    private readonly Y4mChroma _chroma;
    private FileStream? _stream;

    public Y4mWriter(string path, double fps, Y4mChroma chroma = Y4mChroma.C444) : base(path)
    {
        if (fps <= 0) throw new LongshotException($"Y4M: frame rate {fps} must be positive.");
        _fps = fps; _chroma = chroma;
    }

    protected override void Begin(Frame first)
    {
        _stream = new FileStream(TempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        var (num, den) = Rational(_fps);
        var tag = _chroma == Y4mChroma.C444 ? "C444" : "C420jpeg";
        _stream.Write(Encoding.ASCII.GetBytes($"YUV4MPEG2 W{Width} H{Height} F{num}:{den} Ip A1:1 {tag}\n"));
    }

    protected override void WriteFrame(Frame frame) => WritePlanes(Yuv.FromRgb(frame, _chroma));

    /// <summary>Writes planes exactly as given (the bit-exact path).</summary>
    public void WritePlanes(YuvPlanes p)
    {
        if (_stream == null)
            throw new InvalidOperationException("Y4M: write one frame first to fix the size, or use Y4mWriter.Create " +
            "with a size.");
        _stream.Write("FRAME\n"u8);
        _stream.Write(p.Y); _stream.Write(p.U); _stream.Write(p.V);
    }

    protected override void Finish() { _stream!.Flush(true); _stream.Dispose(); }

    protected override void Abort() => _stream?.Dispose();

    internal static (int, int) Rational(double fps)
    {
        if (Math.Abs(fps - Math.Round(fps)) < 1e-9) return ((int)Math.Round(fps), 1);
        return ((int)Math.Round(fps * 1001), 1001);
    }
}

/// <summary>Reads YUV4MPEG2 files frame by frame (C444 and the 4:2:0 layouts, 8-bit).</summary>
public sealed class Y4mReader : IDisposable
{
    private readonly Stream _s;

    public int Width { get; }
    public int Height { get; }
    public double Fps { get; }
    public Y4mChroma Chroma { get; }

    public Y4mReader(string path)
    {
        if (!File.Exists(path)) throw new LongshotException($"Y4M file not found: {path}");
        _s = new BufferedStream(File.OpenRead(path), 1 << 20);
        string header = ReadLine() ?? throw new MediaFormatException($"{path}: empty file.");
        var parts = header.Split(' ');
        if (parts[0] != "YUV4MPEG2") throw new MediaFormatException($"{path}: not a YUV4MPEG2 file.");
        Chroma = Y4mChroma.C420; Fps = 25;
        foreach (var p in parts.Skip(1))
        {
            if (p.Length == 0) continue;
            switch (p[0])
            {
                case 'W': Width = int.Parse(p[1..], CultureInfo.InvariantCulture); break;
                case 'H': Height = int.Parse(p[1..], CultureInfo.InvariantCulture); break;
                case 'F':
                    var fr = p[1..].Split(':');
                    Fps = double.Parse(fr[0], CultureInfo.InvariantCulture) / double.Parse(fr[1],
                        CultureInfo.InvariantCulture); break;
                case 'C':
                    Chroma = p.StartsWith("C444", StringComparison.Ordinal) ? Y4mChroma.C444
                        : p.StartsWith("C420", StringComparison.Ordinal) ? Y4mChroma.C420
                        : throw new MediaFormatException($"{path}: chroma {p} is not supported (C444 or C420).");
                    if (System.Text.RegularExpressions.Regex.IsMatch(p, @"p\d+$"))
                        throw new MediaFormatException($"{path}: high bit depth ({p}) is not supported.");
                    break;
            }
        }
        if (Width <= 0 || Height <= 0) throw new MediaFormatException($"{path}: header has no valid W/H.");
    }

    private string? ReadLine()
    {
        var sb = new StringBuilder();
        int b;
        while ((b = _s.ReadByte()) >= 0 && b != '\n') { sb.Append((char)b); if (sb.Length > 4096)
            throw new MediaFormatException("Y4M header line too long."); }
        return b < 0 && sb.Length == 0 ? null : sb.ToString();
    }

    /// <summary>The next frame's planes, or null at the end of the file.</summary>
    public YuvPlanes? ReadPlanes()
    {
        var line = ReadLine();
        if (line == null) return null;
        if (!line.StartsWith("FRAME", StringComparison.Ordinal))
            throw new MediaFormatException("Y4M: expected a FRAME marker (corrupt file?).");
        int cs = Yuv.ChromaSize(Width, Height, Chroma);
        var y = ReadExactly(Width * Height); var u = ReadExactly(cs); var v = ReadExactly(cs);
        return new YuvPlanes(y, u, v);
    }

    /// <summary>The next frame as RGB, or null at the end.</summary>
    public Frame? ReadFrame() => ReadPlanes() is { } p ? Yuv.ToRgb(p, Width, Height, Chroma) : null;

    private byte[] ReadExactly(int n)
    {
        var b = new byte[n];
        int read = 0;
        while (read < n)
        {
            int k = _s.Read(b, read, n - read);
            if (k == 0) throw new MediaFormatException("Y4M: truncated frame.");
            read += k;
        }
        return b;
    }

    public void Dispose() => _s.Dispose();
}
