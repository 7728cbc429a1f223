using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Longshot.Diffusion.Text;
using Microsoft.ML.Tokenizers;

namespace Longshot.Bench;

/// <summary>
/// The CLIP tokenizer on the 1,500 reference strings (tests' Golden/t2v, ids from OpenAI's simple_tokenizer):
/// how many come out equal from Longshot's ClipTokenizer and from Microsoft.ML.Tokenizers 3.0's byte-level
/// BpeTokenizer set up as closely to CLIP as it allows (CLIP's pattern, lower-casing, "&lt;/w&gt;" word ends, the
/// special tokens), and the strings per second of each.
/// </summary>
internal static class TokenizerBench
{
    private static string Golden(string name) => Path.Combine(FindUp("tests/Longshot.Diffusion.Tests/Golden/t2v"),
        name);

    private static string FindUp(string relative)
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir != null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, relative))) return Path.Combine(dir.FullName, relative);
        throw new Longshot.Tensors.LongshotException($"{relative} not found above the working directory.");
    }

    public static void Run()
    {
        var cases = JsonDocument.Parse(File.ReadAllText(Golden("tokenizer_cases.json"))).RootElement.EnumerateArray()
            .Select(c => (Text: c.GetProperty("text").GetString()!,
                Ids: c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray()))
            .ToArray();
        var ours = ClipTokenizer.Load(Golden("tokenizer"));
        var theirs = MlNet(Golden("tokenizer"));
        foreach (var (name, encode) in new (string, Func<string, int[]>)[]
                 {
                     ("longshot", ours.Encode), ("ml.net", t => theirs.EncodeToIds(t).ToArray()),
                 })
        {
            int equal = cases.Count(c => encode(c.Text).SequenceEqual(c.Ids));
            Report.Emit("tokenizer", "openai-equal-of-1500", name, equal, "strings");
            var sw = Stopwatch.StartNew();
            int rounds = 0;
            while (sw.Elapsed.TotalSeconds < 2)
            {
                foreach (var c in cases) encode(c.Text);
                rounds++;
            }
            Report.Emit("tokenizer", "strings-per-second", name, rounds * cases.Length / sw.Elapsed.TotalSeconds,
                "strings/s");
        }
    }

    private static BpeTokenizer MlNet(string folder)
    {
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(
            File.ReadAllText(Path.Combine(folder, "vocab.json")))!;
        var specials = new Dictionary<string, int>
        {
            [ClipTokenizer.StartToken] = vocab[ClipTokenizer.StartToken],
            [ClipTokenizer.EndToken] = vocab[ClipTokenizer.EndToken],
        };
        var pattern = new Regex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|" +
            @"[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase);
        return BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = File.ReadLines(Path.Combine(folder, "merges.txt")).Skip(1).Where(l => l.Length > 0).ToList(),
            SpecialTokens = specials, UnknownToken = ClipTokenizer.EndToken, EndOfWordSuffix = "</w>",
            ByteLevel = true, Normalizer = new LowerCaseNormalizer(),
            PreTokenizer = new RegexPreTokenizer(pattern, specials),
        });
    }
}
