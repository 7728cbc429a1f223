using System.Reflection;
using System.Text;
using System.Text.Json;

namespace Longshot.Diffusion.Text;

/// <summary>
/// Unicode normalization form C (and the fullwidth/halfwidth part of NFKC), done here because Longshot runs with
/// .NET's invariant globalization, where <see cref="string.Normalize()"/> leaves text as it is. The data
/// (unicode-nfc.json, from Python's unicodedata by tools/make_text_tables.py) is the canonical combining classes,
/// decompositions and primary composites; Hangul syllables are composed and decomposed by their formula.
/// </summary>
internal static class UnicodeNfc
{
    private sealed record Tables(Dictionary<int, int> Ccc, Dictionary<int, int[]> Decompositions,
        Dictionary<(int, int), int> Compositions, Dictionary<int, string> Width);

    private static readonly Lazy<Tables> Data = new(Load);

    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    /// <summary>The NFC form of <paramref name="text"/>.</summary>
    public static string Normalize(string text)
    {
        // ASCII and text without marks or decomposable characters are already NFC.
        if (text.All(c => c < 0x300)) return text;
        var t = Data.Value;
        var cps = new List<int>(text.Length);
        foreach (var r in text.EnumerateRunes()) Decompose(r.Value, cps, t);
        Reorder(cps, t);
        return Compose(cps, t);
    }

    /// <summary>NFKC of a fullwidth or halfwidth form (U+FF01-U+FFEF), null for any other character or one that
    /// stays.</summary>
    public static string? UsualWidth(char c) => Data.Value.Width.GetValueOrDefault(c);

    private static int Ccc(int cp, Tables t) => t.Ccc.GetValueOrDefault(cp);

    private static void Decompose(int cp, List<int> into, Tables t)
    {
        if (cp is >= SBase and < SBase + SCount)
        {
            int s = cp - SBase;
            into.Add(LBase + s / NCount);
            into.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) into.Add(TBase + s % TCount);
            return;
        }
        if (t.Decompositions.TryGetValue(cp, out var parts))
            foreach (var p in parts) Decompose(p, into, t);
        else into.Add(cp);
    }

    /// <summary>Canonical ordering: each run of non-starters sorted by combining class, stably.</summary>
    private static void Reorder(List<int> cps, Tables t)
    {
        for (int i = 0; i < cps.Count;)
        {
            if (Ccc(cps[i], t) == 0) { i++; continue; }
            int end = i;
            while (end < cps.Count && Ccc(cps[end], t) != 0) end++;
            var run = cps.GetRange(i, end - i).Select((c, k) => (c, k)).OrderBy(x => Ccc(x.c, t)).ThenBy(x => x.k)
                .Select(x => x.c).ToList();
            for (int k = 0; k < run.Count; k++) cps[i + k] = run[k];
            i = end;
        }
    }

    /// <summary>Canonical composition: each character joins the last starter unless a character between them has
    /// class 0 or a class at least its own.</summary>
    private static string Compose(List<int> cps, Tables t)
    {
        var output = new List<int>(cps.Count);
        int starter = -1, lastCcc = -1;
        foreach (var c in cps)
        {
            int cc = Ccc(c, t);
            if (starter >= 0 && !(lastCcc != -1 && lastCcc >= cc) && Pair(output[starter], c, t) is { } composite)
            {
                output[starter] = composite;
                continue;
            }
            if (cc == 0) { starter = output.Count; lastCcc = -1; }
            else lastCcc = cc;
            output.Add(c);
        }
        var sb = new StringBuilder(output.Count);
        foreach (var c in output) sb.Append(new Rune(c).ToString());
        return sb.ToString();
    }

    private static int? Pair(int a, int b, Tables t)
    {
        if (a is >= LBase and < LBase + LCount && b is >= VBase and < VBase + VCount)
            return SBase + ((a - LBase) * VCount + (b - VBase)) * TCount;
        if (a is >= SBase and < SBase + SCount && (a - SBase) % TCount == 0 && b is > TBase and < TBase + TCount)
            return a + (b - TBase);
        return t.Compositions.TryGetValue((a, b), out int c) ? c : null;
    }

    private static Tables Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("unicode-nfc.json")
            ?? throw new InvalidOperationException("unicode-nfc.json is missing from the assembly.");
        using var doc = JsonDocument.Parse(stream);
        var root = doc.RootElement;
        var ccc = root.GetProperty("ccc").EnumerateObject()
            .ToDictionary(p => int.Parse(p.Name), p => p.Value.GetInt32());
        var decompositions = root.GetProperty("decompositions").EnumerateObject().ToDictionary(
            p => int.Parse(p.Name), p => p.Value.EnumerateArray().Select(v => v.GetInt32()).ToArray());
        var compositions = root.GetProperty("compositions").EnumerateArray()
            .ToDictionary(e => (e[0].GetInt32(), e[1].GetInt32()), e => e[2].GetInt32());
        var width = root.GetProperty("width").EnumerateObject().ToDictionary(p => int.Parse(p.Name),
            p => p.Value.GetString()!);
        return new Tables(ccc, decompositions, compositions, width);
    }
}
