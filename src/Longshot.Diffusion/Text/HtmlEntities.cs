using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Longshot.Diffusion.Text;

/// <summary>
/// HTML character references decoded the two ways OpenAI's CLIP tokenizer decodes them: Python's
/// <c>html.unescape</c> (every HTML5 name, legacy names without ';', numeric references with the HTML5 error rules)
/// and ftfy's cautious <c>unescape_html</c> (only references that end in ';', plus upper-cased Latin names such as
/// <c>&amp;EACUTE;</c>). The names come from WHATWG's list (html5-entities.json, written by
/// tools/make_html_entities.py).
/// </summary>
internal static partial class HtmlEntities
{
    private static readonly Lazy<Dictionary<string, string>> Html5 = new(LoadTable);
    private static readonly Lazy<Dictionary<string, string>> Cautious = new(BuildCautious);

    /// <summary>Windows-1252's characters for the bytes 0x80-0x9F; the five it leaves undefined stay as they are
    /// (what HTML5 does with references to them, and ftfy's "sloppy" codec).</summary>
    internal static readonly string Windows1252High =
        "\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F" +
        "\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178";

    [GeneratedRegex(@"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")]
    private static partial Regex CharRef();

    [GeneratedRegex(@"&#?[0-9A-Za-z]{1,24};")]
    private static partial Regex CautiousRef();

    /// <summary>Python's <c>html.unescape</c>.</summary>
    public static string Unescape(string s) => s.Contains('&') ? CharRef().Replace(s, m => Replace(m.Groups[1].Value))
        : s;

    /// <summary>ftfy's <c>unescape_html</c>: whole references ending in ';' only.</summary>
    public static string UnescapeCautiously(string s) => CautiousRef().Replace(s, m =>
    {
        var text = m.Value;
        if (Cautious.Value.TryGetValue(text, out var c)) return c;
        if (!text.StartsWith("&#", StringComparison.Ordinal)) return text;
        // A numeric reference counts only when html.unescape consumed the ';' too.
        var unescaped = Unescape(text);
        return unescaped.Contains(';') ? text : unescaped;
    });

    private static string Replace(string s)
    {
        var table = Html5.Value;
        if (s[0] == '#')
        {
            bool hex = s[1] is 'x' or 'X';
            var digits = s[(hex ? 2 : 1)..].TrimEnd(';').TrimStart('0');
            // Past 0x10FFFF (the digit count alone may say so) a reference is a replacement character.
            long num = digits.Length == 0 ? 0
                : digits.Length > 8 ? long.MaxValue
                : long.Parse(digits, hex ? NumberStyles.HexNumber : NumberStyles.None, CultureInfo.InvariantCulture);
            if (num == 0) return "\uFFFD";
            if (num == 0x0D) return "\r";
            if (num is >= 0x80 and <= 0x9F) return Windows1252High[(int)num - 0x80].ToString();
            if (num is >= 0xD800 and <= 0xDFFF || num > 0x10FFFF) return "\uFFFD";
            if (IsInvalidCodePoint(num)) return "";
            return char.ConvertFromUtf32((int)num);
        }
        if (table.TryGetValue(s, out var named)) return named;
        // The longest name the reference starts with (legacy names need no ';').
        for (int x = s.Length - 1; x > 1; x--)
            if (table.TryGetValue(s[..x], out var prefix)) return prefix + s[x..];
        return "&" + s;
    }

    /// <summary>Code points HTML5 drops from a numeric reference: C0 and C1 controls but whitespace,
    /// noncharacters.</summary>
    private static bool IsInvalidCodePoint(long c) =>
        c is >= 0x1 and <= 0x8 or 0xB or >= 0xE and <= 0x1F or >= 0x7F and <= 0x9F or >= 0xFDD0 and <= 0xFDEF
        || (c & 0xFFFE) == 0xFFFE;

    private static Dictionary<string, string> LoadTable()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("html5-entities.json")
            ?? throw new InvalidOperationException("html5-entities.json is missing from the assembly.");
        return JsonSerializer.Deserialize<Dictionary<string, string>>(stream)!;
    }

    /// <summary>ftfy's table: "&amp;name;" for every name ending in ';', and for a lower-case name its upper-case
    /// spelling when that is not a reference of its own, decoding to the upper-cased character.</summary>
    private static Dictionary<string, string> BuildCautious()
    {
        var table = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in Html5.Value)
        {
            if (!name.EndsWith(';')) continue;
            table["&" + name] = value;
            if (name != name.ToLowerInvariant()) continue;
            var upper = "&" + name.ToUpperInvariant();
            if (Unescape(upper) == upper) table[upper] = PythonCase.Upper(value);
        }
        return table;
    }
}
