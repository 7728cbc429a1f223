using Longshot.Tensors;

namespace Longshot.Video.Imaging;

/// <summary>An 8-bit RGB image, row-major, 3 bytes per pixel.</summary>
public sealed class Frame
{
    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Pixel bytes: R, G, B for each pixel, rows top to bottom.</summary>
    public byte[] Rgb { get; }

    public Frame(int width, int height) : this(width, height, new byte[checked(width * height * 3)]) { }

    public Frame(int width, int height, byte[] rgb)
    {
        if (width <= 0 || height <= 0) throw new LongshotException($"Frame: size {width}x{height} must be positive.");
        if (rgb.Length != width * height * 3)
            throw new LongshotException($"Frame: {rgb.Length} bytes do not make a {width}x{height} RGB image " +
            $"({width * height * 3} needed).");
        Width = width; Height = height; Rgb = rgb;
    }

    /// <summary>The colour at (x, y).</summary>
    public Rgb GetPixel(int x, int y)
    {
        int i = (y * Width + x) * 3;
        return new Rgb(Rgb[i], Rgb[i + 1], Rgb[i + 2]);
    }

    public void SetPixel(int x, int y, Rgb c)
    {
        int i = (y * Width + x) * 3;
        Rgb[i] = c.R; Rgb[i + 1] = c.G; Rgb[i + 2] = c.B;
    }

    /// <summary>A deep copy.</summary>
    public Frame Clone() => new(Width, Height, (byte[])Rgb.Clone());

    /// <summary>Pixels as a float tensor [3, H, W] in [-1, 1] (the range the diffusion models use).</summary>
    public Tensor ToTensor()
    {
        var t = Tensor.Zeros(3, Height, Width);
        var s = t.Span;
        int plane = Width * Height;
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < 3; c++) s[c * plane + p] = Rgb[p * 3 + c] / 127.5f - 1f;
        return t;
    }

    /// <summary>A frame from a [3, H, W] tensor in [-1, 1] (values clamped, rounded to nearest).</summary>
    public static Frame FromTensor(Tensor t)
    {
        if (t.Rank != 3 || t.Shape[0] != 3)
            throw new LongshotException($"Frame.FromTensor: expected [3, H, W], got {t}.");
        int h = t.Shape[1], w = t.Shape[2], plane = w * h;
        var v = t.ToArray();
        var f = new Frame(w, h);
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < 3; c++)
                f.Rgb[p * 3 + c] = (byte)Math.Clamp(MathF.Round((v[c * plane + p] + 1f) * 127.5f), 0, 255);
        return f;
    }

    /// <summary>Peak signal-to-noise ratio in dB between two same-size frames (infinity when identical).</summary>
    public static double Psnr(Frame a, Frame b)
    {
        if (a.Width != b.Width || a.Height != b.Height)
            throw new LongshotException($"Psnr: sizes {a.Width}x{a.Height} and {b.Width}x{b.Height} differ.");
        double se = 0;
        for (int i = 0; i < a.Rgb.Length; i++) { double d = a.Rgb[i] - b.Rgb[i]; se += d * d; }
        if (se == 0) return double.PositiveInfinity;
        return 10 * Math.Log10(255.0 * 255.0 / (se / a.Rgb.Length));
    }
}

/// <summary>An 8-bit RGB colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    /// <summary>From a 0xRRGGBB value.</summary>
    public static Rgb Hex(int v) => new((byte)(v >> 16), (byte)(v >> 8), (byte)v);

    /// <summary>Linear interpolation towards <paramref name="o"/> by t in [0, 1].</summary>
    public Rgb Lerp(Rgb o, float t) => new(
        (byte)Math.Clamp(MathF.Round(R + (o.R - R) * t), 0, 255),
        (byte)Math.Clamp(MathF.Round(G + (o.G - G) * t), 0, 255),
        (byte)Math.Clamp(MathF.Round(B + (o.B - B) * t), 0, 255));

    /// <summary>Squared distance in RGB space.</summary>
    public int DistanceSquared(Rgb o) => (R - o.R) * (R - o.R) + (G - o.G) * (G - o.G) + (B - o.B) * (B - o.B);

    public override string ToString() => $"#{R:X2}{G:X2}{B:X2}";
}
