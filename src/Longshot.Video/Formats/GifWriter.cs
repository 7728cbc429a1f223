using Longshot.Tensors;
using Longshot.Video.Imaging;

namespace Longshot.Video.Formats;

/// <summary>
/// Streams frames into an animated GIF (built in, needs nothing installed): each frame gets its own
/// median-cut palette of up to 256 colours and LZW-compressed pixels; the animation loops.
/// </summary>
public sealed class GifWriter : FileVideoWriter
{
    private readonly double _fps;
    private FileStream? _s;

    public GifWriter(string path, double fps) : base(path)
    {
        if (fps <= 0) throw new LongshotException($"GIF: frame rate {fps} must be positive.");
        _fps = fps;
    }

    protected override void Begin(Frame first)
    {
        if (Width > 65535 || Height > 65535)
            throw new LongshotException("GIF: frames larger than 65535 pixels are not supported.");
        _s = new FileStream(TempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        _s.Write("GIF89a"u8);
        WriteU16(Width); WriteU16(Height);
        _s.WriteByte(0x70); _s.WriteByte(0); _s.WriteByte(0); // no global colour table
        // Loop forever (NETSCAPE2.0 application extension).
        _s.Write(new byte[] { 0x21, 0xFF, 0x0B });
        _s.Write("NETSCAPE2.0"u8);
        _s.Write(new byte[] { 3, 1, 0, 0, 0 });
    }

    private void WriteU16(int v) { _s!.WriteByte((byte)v); _s.WriteByte((byte)(v >> 8)); }

    protected override void WriteFrame(Frame f)
    {
        var q = Quantizer.For(f);
        // Delays in 1/100 s, rounded so that the total time stays exact.
        int delay = (int)Math.Round((FrameCount + 1) * 100 / _fps) - (int)Math.Round(FrameCount * 100 / _fps);
        _s!.Write(new byte[] { 0x21, 0xF9, 4, 0x04 });
        WriteU16(Math.Max(1, delay));
        _s.WriteByte(0); _s.WriteByte(0);
        _s.WriteByte(0x2C);
        WriteU16(0); WriteU16(0); WriteU16(Width); WriteU16(Height);
        int bits = 1;
        while ((1 << bits) < q.Palette.Length) bits++;
        bits = Math.Max(bits, 2);
        _s.WriteByte((byte)(0x80 | (bits - 1)));
        for (int i = 0; i < 1 << bits; i++)
        {
            var c = i < q.Palette.Length ? q.Palette[i] : default;
            _s.WriteByte(c.R); _s.WriteByte(c.G); _s.WriteByte(c.B);
        }
        var idx = new byte[Width * Height];
        for (int p = 0; p < idx.Length; p++) idx[p] = (byte)q.Index(f.Rgb[p * 3], f.Rgb[p * 3 + 1], f.Rgb[p * 3 + 2]);
        _s.WriteByte((byte)bits);
        Lzw.Encode(idx, bits, _s);
        _s.WriteByte(0);
    }

    protected override void Finish()
    {
        _s!.WriteByte(0x3B);
        _s.Flush(true);
        _s.Dispose();
    }

    protected override void Abort() => _s?.Dispose();
}

/// <summary>GIF's variable-width LZW, written in 255-byte sub-blocks.</summary>
internal static class Lzw
{
    public static void Encode(byte[] indices, int minCodeSize, Stream output)
    {
        int clear = 1 << minCodeSize, eoi = clear + 1;
        var table = new Dictionary<int, int>();
        int next = eoi + 1, codeSize = minCodeSize + 1;
        var block = new byte[255]; int blockLen = 0;
        int bitBuf = 0, bitCount = 0;
        void Emit(int code)
        {
            bitBuf |= code << bitCount; bitCount += codeSize;
            while (bitCount >= 8)
            {
                block[blockLen++] = (byte)bitBuf; bitBuf >>= 8; bitCount -= 8;
                if (blockLen == 255) { output.WriteByte(255); output.Write(block, 0, 255); blockLen = 0; }
            }
        }
        Emit(clear);
        if (indices.Length == 0) { Emit(eoi); Flush(); return; }
        int prefix = indices[0];
        for (int i = 1; i < indices.Length; i++)
        {
            int k = indices[i], key = (prefix << 8) | k;
            if (table.TryGetValue(key, out int code)) { prefix = code; continue; }
            Emit(prefix);
            if (next < 4096)
            {
                table[key] = next++;
                if (next > (1 << codeSize) && codeSize < 12) codeSize++;
            }
            else
            {
                Emit(clear);
                table.Clear(); next = eoi + 1; codeSize = minCodeSize + 1;
            }
            prefix = k;
        }
        Emit(prefix);
        Emit(eoi);
        Flush();

        void Flush()
        {
            if (bitCount > 0)
            {
                block[blockLen++] = (byte)bitBuf; bitBuf = 0; bitCount = 0;
                if (blockLen == 255) { output.WriteByte(255); output.Write(block, 0, 255); blockLen = 0; }
            }
            if (blockLen > 0) { output.WriteByte((byte)blockLen); output.Write(block, 0, blockLen); }
        }
    }
}
