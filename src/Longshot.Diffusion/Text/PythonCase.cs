using System.Globalization;
using System.Text;

namespace Longshot.Diffusion.Text;

/// <summary>
/// Python's <c>str.lower()</c> and <c>str.upper()</c>, which tokenizers of Python models rely on: full case mappings
/// per code point (supplementary planes included), the one-to-many mappings of Unicode's SpecialCasing.txt
/// (İ lowers to "i̇", ß uppers to "SS") and the final-sigma rule (Σ at the end of a word lowers to ς).
/// </summary>
public static class PythonCase
{
    /// <summary>Upper-case mappings of one character to several (SpecialCasing.txt, unconditional ones).</summary>
    private static readonly Dictionary<int, string> UpperSpecial = new()
    {
        [0x00DF] = "SS", [0x0149] = "\u02BCN", [0x01F0] = "J\u030C", [0x0390] = "\u0399\u0308\u0301",
        [0x03B0] = "\u03A5\u0308\u0301", [0x0587] = "\u0535\u0552", [0x1E96] = "H\u0331", [0x1E97] = "T\u0308",
        [0x1E98] = "W\u030A", [0x1E99] = "Y\u030A", [0x1E9A] = "A\u02BE", [0xFB00] = "FF", [0xFB01] = "FI",
        [0xFB02] = "FL", [0xFB03] = "FFI", [0xFB04] = "FFL", [0xFB05] = "ST", [0xFB06] = "ST",
        [0xFB13] = "\u0544\u0546", [0xFB14] = "\u0544\u0535", [0xFB15] = "\u0544\u053B", [0xFB16] = "\u054E\u0546",
        [0xFB17] = "\u0544\u053D",
    };

    /// <summary>Python's <c>str.lower()</c>.</summary>
    public static string Lower(string s)
    {
        var runes = s.EnumerateRunes().ToArray();
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < runes.Length; i++)
        {
            var r = runes[i];
            if (r.Value == 0x0130) sb.Append("i\u0307");
            else if (r.Value == 0x03A3) sb.Append(IsFinalSigma(runes, i) ? '\u03C2' : '\u03C3');
            else sb.Append(Rune.ToLowerInvariant(r).ToString());
        }
        return sb.ToString();
    }

    /// <summary>Python's <c>str.upper()</c>.</summary>
    public static string Upper(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var r in s.EnumerateRunes())
            sb.Append(UpperSpecial.TryGetValue(r.Value, out var many) ? many : Rune.ToUpperInvariant(r).ToString());
        return sb.ToString();
    }

    /// <summary>Unicode's Final_Sigma condition: a cased letter before (case-ignorable characters between), none
    /// after.</summary>
    private static bool IsFinalSigma(Rune[] runes, int at)
    {
        int j = at - 1;
        while (j >= 0 && IsCaseIgnorable(runes[j])) j--;
        if (j < 0 || !IsCased(runes[j])) return false;
        j = at + 1;
        while (j < runes.Length && IsCaseIgnorable(runes[j])) j++;
        return j == runes.Length || !IsCased(runes[j]);
    }

    private static bool IsCased(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.UppercaseLetter
        or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;

    private static bool IsCaseIgnorable(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.NonSpacingMark
            or UnicodeCategory.EnclosingMark or UnicodeCategory.Format or UnicodeCategory.ModifierLetter
            or UnicodeCategory.ModifierSymbol
        // Word_Break MidLetter, MidNumLet and Single_Quote.
        || r.Value is '\'' or '.' or ':' or 0x00B7 or 0x0387 or 0x055F or 0x05F4 or 0x2018 or 0x2019 or 0x2024
            or 0x2027 or 0xFE13 or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A;
}
