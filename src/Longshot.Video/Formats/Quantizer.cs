using Longshot.Video.Imaging;

namespace Longshot.Video.Formats;

/// <summary>Median-cut colour quantisation to at most 256 colours, with a cached nearest-colour lookup.</summary>
internal sealed class Quantizer
{
    public Rgb[] Palette { get; }
    private readonly short[] _cache = new short[32 * 32 * 32];

    private Quantizer(Rgb[] palette)
    {
        Palette = palette;
        Array.Fill(_cache, (short)-1);
    }

    /// <summary>Builds a palette from the frame's colours (exact when it has 256 or fewer).</summary>
    public static Quantizer For(Frame f)
    {
        var counts = new Dictionary<int, int>();
        for (int i = 0; i < f.Rgb.Length; i += 3)
        {
            int key = (f.Rgb[i] << 16) | (f.Rgb[i + 1] << 8) | f.Rgb[i + 2];
            counts[key] = counts.GetValueOrDefault(key) + 1;
            if (counts.Count > 4096) break;
        }
        if (counts.Count <= 256) return new Quantizer(counts.Keys.Select(Rgb.Hex).ToArray());
        // Median cut over a subsample of pixels.
        int step = Math.Max(1, f.Width * f.Height / 8192);
        var pixels = new List<Rgb>();
        for (int p = 0; p < f.Width * f.Height; p += step) pixels.Add(f.GetPixel(p % f.Width, p / f.Width));
        var boxes = new List<List<Rgb>> { pixels };
        while (boxes.Count < 256)
        {
            int bi = -1, bestRange = 0, channel = 0;
            for (int i = 0; i < boxes.Count; i++)
            {
                if (boxes[i].Count < 2) continue;
                for (int c = 0; c < 3; c++)
                {
                    int lo = 255, hi = 0;
                    foreach (var px in boxes[i]) { int v = c == 0 ? px.R : c == 1 ? px.G
                        : px.B; lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
                    if (hi - lo > bestRange) { bestRange = hi - lo; bi = i; channel = c; }
                }
            }
            if (bi < 0) break;
            var box = boxes[bi];
            box.Sort((a, b) => channel == 0 ? a.R.CompareTo(b.R) : channel == 1 ? a.G.CompareTo(b.G)
                : a.B.CompareTo(b.B));
            boxes[bi] = box.GetRange(0, box.Count / 2);
            boxes.Add(box.GetRange(box.Count / 2, box.Count - box.Count / 2));
        }
        var palette = boxes.Where(b => b.Count > 0).Select(b => new Rgb(
            (byte)b.Average(p => p.R), (byte)b.Average(p => p.G), (byte)b.Average(p => p.B))).ToArray();
        return new Quantizer(palette);
    }

    /// <summary>Palette index nearest to a colour (cached on 5 bits per channel, exact colours first).</summary>
    public int Index(byte r, byte g, byte b)
    {
        int key = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
        var c = new Rgb(r, g, b);
        int cached = _cache[key];
        if (cached >= 0 && Palette[cached] == c) return cached;
        int best = 0, bestD = int.MaxValue;
        for (int i = 0; i < Palette.Length; i++)
        {
            int d = Palette[i].DistanceSquared(c);
            if (d < bestD) { bestD = d; best = i; if (d == 0) break; }
        }
        if (cached < 0 || bestD == 0) _cache[key] = (short)best;
        return best;
    }
}
