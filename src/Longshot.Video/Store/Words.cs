namespace Longshot.Video.Store;

/// <summary>Splits captions into lower-case word tokens (the tokenizer of the text encoder builds on the same
/// rule).</summary>
public static class Words
{
    public static IEnumerable<string> Of(string caption)
    {
        var word = new System.Text.StringBuilder();
        foreach (char ch in caption)
        {
            if (char.IsLetterOrDigit(ch) || ch == '\'') word.Append(char.ToLowerInvariant(ch));
            else
            {
                if (word.Length > 0) { yield return word.ToString(); word.Clear(); }
                if (!char.IsWhiteSpace(ch)) yield return ch.ToString();
            }
        }
        if (word.Length > 0) yield return word.ToString();
    }
}
