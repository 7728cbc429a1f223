namespace Longshot.Video.Imaging;

/// <summary>A 3x5 pixel font (digits, upper-case letters and a few signs) for frame labels; no font files
/// needed.</summary>
internal static class PixelFont
{
    // Each glyph: 5 rows of 3 bits (MSB = left column).
    private static readonly Dictionary<char, int[]> Glyphs = new()
    {
        ['0'] = new[] { 7, 5, 5, 5, 7 }, ['1'] = new[] { 2, 6, 2, 2, 7 }, ['2'] = new[] { 7, 1, 7, 4, 7 },
        ['3'] = new[] { 7, 1, 7, 1, 7 }, ['4'] = new[] { 5, 5, 7, 1, 1 }, ['5'] = new[] { 7, 4, 7, 1, 7 },
        ['6'] = new[] { 7, 4, 7, 5, 7 }, ['7'] = new[] { 7, 1, 1, 1, 1 }, ['8'] = new[] { 7, 5, 7, 5, 7 },
        ['9'] = new[] { 7, 5, 7, 1, 7 }, ['A'] = new[] { 2, 5, 7, 5, 5 }, ['B'] = new[] { 6, 5, 6, 5, 6 },
        ['C'] = new[] { 3, 4, 4, 4, 3 }, ['D'] = new[] { 6, 5, 5, 5, 6 }, ['E'] = new[] { 7, 4, 6, 4, 7 },
        ['F'] = new[] { 7, 4, 6, 4, 4 }, ['G'] = new[] { 3, 4, 5, 5, 3 }, ['H'] = new[] { 5, 5, 7, 5, 5 },
        ['I'] = new[] { 7, 2, 2, 2, 7 }, ['J'] = new[] { 1, 1, 1, 5, 2 }, ['K'] = new[] { 5, 5, 6, 5, 5 },
        ['L'] = new[] { 4, 4, 4, 4, 7 }, ['M'] = new[] { 5, 7, 7, 5, 5 }, ['N'] = new[] { 6, 5, 5, 5, 5 },
        ['O'] = new[] { 2, 5, 5, 5, 2 }, ['P'] = new[] { 6, 5, 6, 4, 4 }, ['Q'] = new[] { 2, 5, 5, 6, 3 },
        ['R'] = new[] { 6, 5, 6, 5, 5 }, ['S'] = new[] { 3, 4, 2, 1, 6 }, ['T'] = new[] { 7, 2, 2, 2, 2 },
        ['U'] = new[] { 5, 5, 5, 5, 7 }, ['V'] = new[] { 5, 5, 5, 5, 2 }, ['W'] = new[] { 5, 5, 7, 7, 5 },
        ['X'] = new[] { 5, 5, 2, 5, 5 }, ['Y'] = new[] { 5, 5, 2, 2, 2 }, ['Z'] = new[] { 7, 1, 2, 4, 7 },
        ['#'] = new[] { 5, 7, 5, 7, 5 }, ['-'] = new[] { 0, 0, 7, 0, 0 }, ['.'] = new[] { 0, 0, 0, 0, 2 },
        [':'] = new[] { 0, 2, 0, 2, 0 }, ['/'] = new[] { 1, 1, 2, 4, 4 }, [' '] = new[] { 0, 0, 0, 0, 0 },
    };

    /// <summary>Width in pixels of <paramref name="text"/> at the given scale (4 pixels per character).</summary>
    public static int Measure(string text, int scale) => Math.Max(0, text.Length * 4 - 1) * scale;

    public static void Draw(Frame f, int x, int y, string text, Rgb c, int scale)
    {
        foreach (char ch in text.ToUpperInvariant())
        {
            var g = Glyphs.GetValueOrDefault(ch) ?? Glyphs['#'];
            for (int row = 0; row < 5; row++)
                for (int col = 0; col < 3; col++)
                {
                    if ((g[row] & (4 >> col)) == 0) continue;
                    for (int sy = 0; sy < scale; sy++)
                        for (int sx = 0; sx < scale; sx++)
                        {
                            int px = x + col * scale + sx, py = y + row * scale + sy;
                            if (px >= 0 && py >= 0 && px < f.Width && py < f.Height) f.SetPixel(px, py, c);
                        }
                }
            x += 4 * scale;
        }
    }
}
