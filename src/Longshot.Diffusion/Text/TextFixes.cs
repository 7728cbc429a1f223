using System.Text;
using System.Text.RegularExpressions;

namespace Longshot.Diffusion.Text;

/// <summary>
/// The text repairs of ftfy's <c>fix_text</c> (v6.3, default settings) that OpenAI's CLIP tokenizer runs on every
/// prompt, applied line by line until nothing changes: HTML references (not on lines after one with '&lt;'),
/// C1 controls read as Windows-1252, Latin ligatures, fullwidth and halfwidth forms, curly quotes, line breaks,
/// unpaired surrogates, terminal escapes, unintended control characters, NFC. Not done: ftfy's mojibake repair
/// (text decoded in the wrong encoding, found by a heuristic), so a prompt that is mojibake (such as "cafÃ©") keeps
/// it where ftfy would repair it.
/// </summary>
internal static partial class TextFixes
{
    /// <summary>Latin ligatures and digraphs ftfy takes apart.</summary>
    private static readonly Dictionary<char, string> Ligatures = new()
    {
        ['\u0132'] = "IJ", ['\u0133'] = "ij", ['\u0149'] = "\u02BCn", ['\u01F1'] = "DZ", ['\u01F2'] = "Dz",
        ['\u01F3'] = "dz", ['\u01C4'] = "D\u017D", ['\u01C5'] = "D\u017E", ['\u01C6'] = "d\u017E", ['\u01C7'] = "LJ",
        ['\u01C8'] = "Lj", ['\u01C9'] = "lj", ['\u01CA'] = "NJ", ['\u01CB'] = "Nj", ['\u01CC'] = "nj",
        ['\uFB00'] = "ff", ['\uFB01'] = "fi", ['\uFB02'] = "fl", ['\uFB03'] = "ffi", ['\uFB04'] = "ffl",
        ['\uFB05'] = "\u017Ft", ['\uFB06'] = "st",
    };

    [GeneratedRegex("\u001b\\[((?:\\d|;)*)([a-zA-Z])")]
    private static partial Regex TerminalEscape();

    /// <summary>ftfy's <c>fix_text</c> without mojibake repair.</summary>
    public static string Fix(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool unescape = true;
        for (int pos = 0; pos < text.Length;)
        {
            int newline = text.IndexOf('\n', pos);
            int end = newline < 0 ? text.Length : newline + 1;
            var segment = text[pos..end];
            // ftfy's "auto" HTML setting: text with '<' may be HTML source, left alone from that line on.
            if (segment.Contains('<')) unescape = false;
            sb.Append(FixSegment(segment, unescape));
            pos = end;
        }
        return sb.ToString();
    }

    private static string FixSegment(string text, bool unescape)
    {
        while (true)
        {
            var original = text;
            if (unescape) text = HtmlEntities.UnescapeCautiously(text);
            text = Translate(text, FixC1);
            text = Translate(text, c => Ligatures.GetValueOrDefault(c));
            text = Translate(text, Width);
            text = Translate(text, Quote);
            text = text.Replace("\r\n", "\n").Replace('\r', '\n').Replace('\u2028', '\n').Replace('\u2029', '\n')
                .Replace('\u0085', '\n');
            text = FixSurrogates(text);
            text = TerminalEscape().Replace(text, "");
            text = Translate(text, c => IsUnintendedControl(c) ? "" : null);
            text = UnicodeNfc.Normalize(text);
            if (text == original) return text;
        }
    }

    /// <summary>Each character mapped by <paramref name="map"/> (null: kept).</summary>
    private static string Translate(string text, Func<char, string?> map)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            var replacement = map(text[i]);
            if (replacement == null) { sb?.Append(text[i]); continue; }
            sb ??= new StringBuilder(text.Length).Append(text, 0, i);
            sb.Append(replacement);
        }
        return sb?.ToString() ?? text;
    }

    private static string? FixC1(char c) =>
        c is >= '\u0080' and <= '\u009F' ? HtmlEntities.Windows1252High[c - 0x80].ToString() : null;

    /// <summary>Fullwidth and halfwidth forms to their usual width (NFKC of U+FF01-U+FFEF), the ideographic space
    /// to a space.</summary>
    private static string? Width(char c) => c == '\u3000' ? " " : UnicodeNfc.UsualWidth(c);

    private static string? Quote(char c) => c switch
    {
        '\u02BC' or >= '\u2018' and <= '\u201B' => "'",
        >= '\u201C' and <= '\u201F' => "\"",
        _ => null,
    };

    /// <summary>Unpaired surrogates become U+FFFD (.NET keeps pairs as one character already).</summary>
    private static string FixSurrogates(string text)
    {
        if (!text.Any(char.IsSurrogate)) return text;
        var chars = text.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1])) i++;
            else if (char.IsSurrogate(chars[i])) chars[i] = '\uFFFD';
        }
        return new string(chars);
    }

    /// <summary>C0 controls but tab, line feed, form feed and carriage return; DEL; deprecated Arabic format
    /// characters; the byte order mark; interlinear annotations and the object replacement character.</summary>
    private static bool IsUnintendedControl(char c) =>
        c is <= '\u0008' or '\u000B' or >= '\u000E' and <= '\u001F' or '\u007F' or >= '\u206A' and <= '\u206F'
            or '\uFEFF' or >= '\uFFF9' and <= '\uFFFC';
}
