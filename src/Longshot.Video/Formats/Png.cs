using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Longshot.Tensors;
using Longshot.Video.Imaging;

namespace Longshot.Video.Formats;

/// <summary>Raised for a file that is not a readable image or video of the expected format.</summary>
public sealed class MediaFormatException(string message) : LongshotException(message);

/// <summary>A built-in PNG encoder (8-bit RGB, adaptive row filters) and decoder (8/16-bit grey, RGB, palette, with or
/// without alpha; not interlaced).</summary>
public static class Png
{
    private static readonly byte[] Signature = { 137, 80, 78, 71, 13, 10, 26, 10 };

    /// <summary>Encodes a frame as PNG bytes.</summary>
    public static byte[] Encode(Frame f, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var ms = new MemoryStream();
        Write(ms, f, level);
        return ms.ToArray();
    }

    /// <summary>Writes a frame to a PNG file atomically.</summary>
    public static void Save(string path, Frame f) =>
        Tensors.IO.AtomicFile.Write(path, s => Write(s, f, CompressionLevel.Optimal));

    /// <summary>Writes PNG bytes to a stream.</summary>
    public static void Write(Stream s, Frame f, CompressionLevel level)
    {
        s.Write(Signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, f.Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), f.Height);
        ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
        Chunk(s, "IHDR", ihdr);
        using (var idat = new MemoryStream())
        {
            using (var z = new ZLibStream(idat, level, leaveOpen: true))
            {
                int stride = f.Width * 3;
                var prev = new byte[stride]; var cur = new byte[stride]; var best = new byte[stride
                    + 1]; var trial = new byte[stride + 1];
                for (int y = 0; y < f.Height; y++)
                {
                    Array.Copy(f.Rgb, y * stride, cur, 0, stride);
                    long bestScore = long.MaxValue;
                    for (byte filter = 0; filter <= 4; filter++)
                    {
                        trial[0] = filter;
                        long score = 0;
                        for (int i = 0; i < stride; i++)
                        {
                            int a = i >= 3 ? cur[i - 3] : 0, b = prev[i], c = i >= 3 ? prev[i - 3] : 0;
                            byte v = (byte)(cur[i] - Predict(filter, a, b, c));
                            trial[i + 1] = v;
                            score += v < 128 ? v : 256 - v;
                        }
                        if (score < bestScore) { bestScore = score; (best, trial) = (trial, best); }
                    }
                    z.Write(best);
                    (prev, cur) = (cur, prev);
                }
            }
            Chunk(s, "IDAT", idat.ToArray());
        }
        Chunk(s, "IEND", Array.Empty<byte>());
    }

    private static int Predict(int filter, int a, int b, int c) => filter switch
    {
        0 => 0,
        1 => a,
        2 => b,
        3 => (a + b) >> 1,
        _ => Paeth(a, b, c),
    };

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var t = Encoding.ASCII.GetBytes(type);
        s.Write(t); s.Write(data);
        uint crc = Crc32.Update(Crc32.Update(0, t), data);
        BinaryPrimitives.WriteUInt32BigEndian(len, crc);
        s.Write(len);
    }

    /// <summary>Reads a PNG file; alpha is composited over black.</summary>
    public static Frame Load(string path)
    {
        if (!File.Exists(path)) throw new LongshotException($"PNG file not found: {path}");
        try { return Decode(File.ReadAllBytes(path)); }
        catch (MediaFormatException e) { throw new MediaFormatException($"{path}: {e.Message}"); }
    }

    /// <summary>Decodes PNG bytes.</summary>
    public static Frame Decode(byte[] data)
    {
        if (data.Length < 8 || !data.AsSpan(0, 8).SequenceEqual(Signature))
            throw new MediaFormatException("not a PNG file (bad signature).");
        int pos = 8, width = 0, height = 0, depth = 0, colorType = -1;
        byte[]? palette = null;
        using var idat = new MemoryStream();
        bool end = false;
        while (!end)
        {
            if (pos + 8 > data.Length) throw new MediaFormatException("truncated PNG (chunk header past the end).");
            int len = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(pos));
            string type = Encoding.ASCII.GetString(data, pos + 4, 4);
            if (len < 0 || pos + 12L + len > data.Length)
                throw new MediaFormatException($"truncated PNG (chunk {type} of {len} bytes past the end).");
            var body = data.AsSpan(pos + 8, len);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(pos + 8 + len));
            if (Crc32.Update(Crc32.Update(0, data.AsSpan(pos + 4, 4)), body) != crc)
                throw new MediaFormatException($"corrupt PNG (CRC mismatch in chunk {type}).");
            switch (type)
            {
                case "IHDR":
                    width = BinaryPrimitives.ReadInt32BigEndian(body);
                    height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                    depth = body[8]; colorType = body[9];
                    if (body[12] != 0) throw new MediaFormatException("interlaced PNGs are not supported.");
                    if (depth != 8 && depth != 16)
                        throw new MediaFormatException($"PNG bit depth {depth} is not supported (8 or 16).");
                    if (colorType is not (0 or 2 or 3 or 4 or 6))
                        throw new MediaFormatException($"PNG colour type {colorType} is not valid.");
                    if (width <= 0 || height <= 0 || (long)width * height > 1 << 28)
                        throw new MediaFormatException($"PNG size {width}x{height} is not supported.");
                    break;
                case "PLTE": palette = body.ToArray(); break;
                case "IDAT": idat.Write(body); break;
                case "IEND": end = true; break;
            }
            pos += 12 + len;
        }
        if (colorType < 0) throw new MediaFormatException("PNG has no IHDR chunk.");
        if (colorType == 3 && palette == null) throw new MediaFormatException("palette PNG has no PLTE chunk.");
        int channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        int bpp = channels * depth / 8, stride = width * bpp;
        var raw = new byte[(long)(stride + 1) * height];
        idat.Position = 0;
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            int read = 0;
            while (read < raw.Length)
            {
                int n = z.Read(raw, read, raw.Length - read);
                if (n == 0) throw new MediaFormatException($"truncated PNG image data ({read} of {raw.Length} bytes).");
                read += n;
            }
        }
        catch (InvalidDataException e) { throw new MediaFormatException($"corrupt PNG image data ({e.Message})."); }
        var frame = new Frame(width, height);
        var prev = new byte[stride]; var cur = new byte[stride];
        for (int y = 0; y < height; y++)
        {
            int filter = raw[(long)y * (stride + 1)];
            if (filter > 4) throw new MediaFormatException($"corrupt PNG (row {y} has filter type {filter}).");
            Array.Copy(raw, (long)y * (stride + 1) + 1, cur, 0, stride);
            for (int i = 0; i < stride; i++)
            {
                int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                cur[i] = (byte)(cur[i] + Predict(filter, a, b, c));
            }
            for (int x = 0; x < width; x++)
            {
                int o = (y * width + x) * 3, s = x * bpp, step = depth / 8;
                byte Sample(int ch) => cur[s + ch * step];
                byte r, g, bl;
                switch (colorType)
                {
                    case 0: r = g = bl = Sample(0); break;
                    case 4: r = g = bl = (byte)(Sample(0) * Sample(1) / 255); break;
                    case 3:
                        int idx = cur[s] * 3;
                        if (idx + 2 >= palette!.Length)
                            throw new MediaFormatException($"PNG pixel uses palette entry {cur[s]} beyond the " +
                            $"palette.");
                        r = palette[idx]; g = palette[idx + 1]; bl = palette[idx + 2]; break;
                    case 2: r = Sample(0); g = Sample(1); bl = Sample(2); break;
                    default:
                        int al = Sample(3);
                        r = (byte)(Sample(0) * al / 255); g = (byte)(Sample(1) * al / 255); bl = (byte)(Sample(2)
                            * al / 255); break;
                }
                frame.Rgb[o] = r; frame.Rgb[o + 1] = g; frame.Rgb[o + 2] = bl;
            }
            (prev, cur) = (cur, prev);
        }
        return frame;
    }
}
