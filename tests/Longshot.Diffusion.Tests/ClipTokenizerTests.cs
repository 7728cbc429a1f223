using System.Text.Json;
using Longshot.Diffusion.Text;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>
/// The CLIP tokenizer against OpenAI's simple_tokenizer (tools/make_tokenizer_golden.py): 1,500 strings of every
/// kind, with OpenAI's vocabulary in Hugging Face's folder layout; then the start, end, cut and padding a text
/// encoder gets.
/// </summary>
public class ClipTokenizerTests
{
    private static string Golden(params string[] parts) =>
        Path.Combine(new[] { AppContext.BaseDirectory, "Golden", "t2v" }.Concat(parts).ToArray());

    private static readonly Lazy<ClipTokenizer> Tokenizer = new(() => ClipTokenizer.Load(Golden("tokenizer")));

    private sealed record Case(string Text, int[] Ids, bool Mojibake);

    private static Case[] Cases() => JsonSerializer.Deserialize<Case[]>(
        File.ReadAllText(Golden("tokenizer_cases.json")), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;

    /// <summary>Every string but those ftfy repairs as mojibake (which Longshot does not: 2 of the 1,500, random
    /// code points that happen to read as UTF-8 decoded as Windows-1252).</summary>
    [Fact]
    public void EveryReferenceStringGetsTheReferenceIds()
    {
        var cases = Cases().Where(c => !c.Mojibake).ToArray();
        Assert.True(cases.Length >= 1000);
        var wrong = cases.Where(c => !Tokenizer.Value.Encode(c.Text).SequenceEqual(c.Ids))
            .Select(c => $"{JsonSerializer.Serialize(c.Text)}: [{string.Join(' ', c.Ids)}] != " +
                         $"[{string.Join(' ', Tokenizer.Value.Encode(c.Text))}]")
            .ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {cases.Length} differ:\n" +
            string.Join("\n", wrong.Take(20)));
    }

    /// <summary>The strings ftfy repairs as mojibake are few, and they are the only ones that differ.</summary>
    [Fact]
    public void OnlyMojibakeRepairIsLeftOut()
    {
        var mojibake = Cases().Where(c => c.Mojibake).ToList();
        Assert.InRange(mojibake.Count, 1, 5);
        Assert.All(mojibake, c => Assert.False(Tokenizer.Value.Encode(c.Text).SequenceEqual(c.Ids)));
    }

    [Fact]
    public void ATextEncoderGetsStartEndAndTheCutOfTheReference()
    {
        var t = Tokenizer.Value;
        Assert.Equal((49406, 49407, 0, 77), (t.StartId, t.EndId, t.PadId, t.MaxLength));
        var short_ = t.Tokenize("a photo of a cat");
        Assert.Equal(new[] { 49406, 320, 1125, 539, 320, 2368, 49407 }, short_.Ids);
        Assert.False(short_.Truncated);
        var padded = t.Pad(short_.Ids);
        Assert.Equal(77, padded.Length);
        Assert.All(padded[7..], id => Assert.Equal(0, id));

        // OpenAI's clip.tokenize(truncate=True) and diffusers' truncation both keep 75 text tokens, then the end.
        var longText = string.Join(" ", Enumerable.Repeat("astronaut", 100));
        var cut = t.Tokenize(longText);
        Assert.True(cut.Truncated);
        Assert.Equal(100, cut.TextTokens);
        Assert.Equal(77, cut.Ids.Length);
        Assert.Equal(49407, cut.Ids[^1]);
        Assert.Equal(t.Encode(longText)[..75], cut.Ids[1..76]);
    }

    [Fact]
    public void AFolderWithoutItsFilesIsNamed()
    {
        var dir = Directory.CreateTempSubdirectory("longshot-tok-").FullName;
        try
        {
            var e = Assert.Throws<InputFileException>(() => ClipTokenizer.Load(dir));
            Assert.Contains("vocab.json", e.Message);
            File.Copy(Golden("tokenizer", "vocab.json"), Path.Combine(dir, "vocab.json"));
            e = Assert.Throws<InputFileException>(() => ClipTokenizer.Load(dir));
            Assert.Contains("merges.txt", e.Message);
            File.WriteAllText(Path.Combine(dir, "merges.txt"), "#version: 0.2\na b c\n");
            e = Assert.Throws<InputFileException>(() => ClipTokenizer.Load(dir));
            Assert.Contains("merges.txt:2", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("\u039f\u0394\u039f\u03a3", "\u03bf\u03b4\u03bf\u03c2")]
    [InlineData("\u039f\u0394\u039f\u03a3 \u03a3\u039f\u03a6\u039f\u03a3",
        "\u03bf\u03b4\u03bf\u03c2 \u03c3\u03bf\u03c6\u03bf\u03c2")]
    [InlineData("\u0130stanbul", "i\u0307stanbul")]
    [InlineData("\U00010400", "\U00010428")]
    public void LowerCaseIsPythons(string text, string lower) => Assert.Equal(lower, PythonCase.Lower(text));

    [Theory]
    [InlineData("stra\u00dfe", "STRASSE")]
    [InlineData("\ufb01ne", "FINE")]
    public void UpperCaseIsPythons(string text, string upper) => Assert.Equal(upper, PythonCase.Upper(text));
}
