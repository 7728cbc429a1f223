using System.Text;

namespace Longshot.Diffusion.Text;

/// <summary>
/// What OpenAI's CLIP tokenizer does to a prompt before splitting it: ftfy's repairs (<see cref="TextFixes"/>), HTML
/// references decoded twice, runs of whitespace to one space, trimmed, lower-cased as Python lower-cases.
/// </summary>
public static class ClipTextCleanup
{
    /// <summary>The prompt as the tokenizer reads it.</summary>
    public static string Clean(string text)
    {
        var basic = HtmlEntities.Unescape(HtmlEntities.Unescape(TextFixes.Fix(text)));
        return PythonCase.Lower(CollapseWhitespace(basic));
    }

    /// <summary>Python's whitespace (str.isspace): .NET's, plus the information separators U+001C-U+001F.</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001C' and <= '\u001F';

    /// <summary>Runs of whitespace to one space, none at either end (Python's strip, then re.sub(r"\s+", " ")).
    /// </summary>
    private static string CollapseWhitespace(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool space = false;
        foreach (var c in text)
        {
            if (IsSpace(c)) { space = true; continue; }
            if (space && sb.Length > 0) sb.Append(' ');
            space = false;
            sb.Append(c);
        }
        return sb.ToString();
    }
}
