using Xunit;

namespace Longshot.Cli.Tests;

/// <summary>`longshot model tokenize` on the CLIP tokenizer fixture (OpenAI's vocabulary in Hugging Face's layout,
/// tests/Longshot.Diffusion.Tests/Golden/t2v/tokenizer).</summary>
public class TokenizeCliTests
{
    private static readonly string Tokenizer = Path.Combine(Cli.Root, "tests", "Longshot.Diffusion.Tests", "Golden",
        "t2v", "tokenizer");

    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-tokenize-").FullName;

    private (int Code, string Out, string Err) Tokenize(string folder, string text)
    {
        using var process = Cli.Start(_dir, "model", "tokenize", folder, "--text", text);
        string output = process.StandardOutput.ReadToEnd(), error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Trim(), error.Trim());
    }

    [Fact]
    public void PrintsTheIdsWithStartAndEndAsTheReference()
    {
        // OpenAI's simple_tokenizer: 550 18376 6765 320 4558 525 7496 267 275 330 for this prompt.
        var (code, output, error) = Tokenize(Tokenizer, "An astronaut riding a horse on Mars, 4k");
        Assert.True(code == 0, error);
        Assert.Equal("49406 550 18376 6765 320 4558 525 7496 267 275 330 49407", output);
        Assert.Equal("", error);
    }

    [Fact]
    public void ALongPromptIsCutAsTheReferenceCutsItAndSaysSoOnce()
    {
        var (code, output, error) = Tokenize(Tokenizer, string.Join(" ", Enumerable.Repeat("cat", 100)));
        Assert.Equal(0, code);
        var ids = output.Split(' ');
        Assert.Equal(77, ids.Length);
        Assert.Equal("49407", ids[^1]);
        Assert.Single(error.Split('\n'));
        Assert.Contains("100 tokens", error);
    }

    [Fact]
    public void AFolderWithoutATokenizerIsNamed()
    {
        var (code, _, error) = Tokenize(_dir, "a cat");
        Assert.Equal(2, code);
        Assert.Contains("tokenizer_config.json", error);
        Assert.DoesNotContain("   at ", error);
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), "{\"tokenizer_class\": \"CLIPTokenizer\"}");
        (code, _, error) = Tokenize(_dir, "a cat");
        Assert.Equal(2, code);
        Assert.Contains("vocab.json", error);
    }
}
