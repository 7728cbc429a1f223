using System.Text;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Text;
using Longshot.Diffusion.Unet;
using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>
/// Mutated inputs (fixed seed, a few hundred cases each): the storyline parser and every config loader either accept
/// an input or refuse it with a <see cref="LongshotException"/>; no other exception, no hang.
/// </summary>
public class FuzzTests
{
    private const string ValidStory = "# demo\n0-48: Wide shot of the beach at noon. Ziggy waves.\n48-2.5s: " +
        "Close-up, forest.\n" +
                                      "60-: Night in the town.\n";

    private static readonly string[] Pieces =
    {
        "0", "-", ":", "s", "9999999999", "1e9", "2.5", ".", " ", "\t", "\r", "\n", "#", "٣", "-1", "0-0:", "x",
        "12-3:", ":::", "0-: ", "\u0000", "\uffff", "99999999999999999999", "1.0000001s", "5--6:",
    };

    [Fact]
    public void TheStorylineParserAcceptsOrNamesTheProblem()
    {
        var rng = new Random(7);
        for (int i = 0; i < 400; i++)
        {
            var text = new StringBuilder(ValidStory);
            int edits = 1 + rng.Next(6);
            for (int e = 0; e < edits; e++)
            {
                int at = rng.Next(text.Length + 1);
                if (rng.Next(3) == 0 && text.Length > 0) text.Remove(Math.Min(at, text.Length - 1),
                    1 + rng.Next(Math.Min(5, text.Length - Math.Min(at, text.Length - 1))));
                else text.Insert(at, Pieces[rng.Next(Pieces.Length)]);
            }
            int? frames = rng.Next(3) switch { 0 => null, 1 => rng.Next(1, 200), _ => int.MaxValue };
            try
            {
                var s = Storyline.Parse(text.ToString(), 24, frames, "fuzz");
                Assert.True(s.Frames >= 1 && s.Segments.All(x => x.End > x.Start && x.Prompt.Length > 0));
            }
            catch (LongshotException e) { Assert.StartsWith("fuzz", e.Message); }
        }
    }

    public static TheoryData<string> Loaders => new() { "unet", "scheduler", "text", "tokenizer", "vae" };

    [Theory]
    [MemberData(nameof(Loaders))]
    public void ConfigLoadersAcceptOrNameTheFile(string kind)
    {
        var (file, load) = Loader(kind);
        var valid = File.ReadAllText(file);
        var dir = Directory.CreateTempSubdirectory("longshot-fuzz-").FullName;
        try
        {
            var path = Path.Combine(dir, Path.GetFileName(file));
            var rng = new Random(kind.GetHashCode(StringComparison.Ordinal) & 0xffff);
            for (int i = 0; i < 80; i++)
            {
                File.WriteAllBytes(path, Mutate(Encoding.UTF8.GetBytes(valid), rng));
                try { load(path); }
                catch (LongshotException e) { Assert.Contains(path, e.Message); }
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    private static (string File, Action<string> Load) Loader(string kind)
    {
        string Model(params string[] p) => Path.Combine(new[] { ShippedModels.Global() }.Concat(p).ToArray());
        return kind switch
        {
            "unet" => (Model("unet", "config.json"), p => MaskUnetConfig.Load(p)),
            "scheduler" => (Model("scheduler", "scheduler_config.json"), p => SchedulerConfig.Load(p)),
            "text" => (Model("text_encoder", "config.json"), p => TextEncoderConfig.Load(p)),
            "tokenizer" => (Model("tokenizer", "tokenizer.json"), p => WordTokenizer.Load(p)),
            _ => (Path.Combine(ShippedModels.Vae(), "config.json"), p => AutoencoderKLConfig.Load(p)),
        };
    }

    private static readonly string[] Values =
    {
        "0", "-1", "1e308", "\"abc\"", "null", "[]", "{}", "true", "[0]", "2147483648", "NaN", "\"\\u0000\"", "0.5",
    };

    /// <summary>Truncation, byte flips, a value replaced, a key renamed or added, or binary noise.</summary>
    private static byte[] Mutate(byte[] valid, Random rng)
    {
        var s = Encoding.UTF8.GetString(valid);
        switch (rng.Next(6))
        {
            case 0: return valid[..rng.Next(valid.Length)];
            case 1:
                var b = (byte[])valid.Clone();
                for (int k = 0; k < 1 + rng.Next(4); k++) b[rng.Next(b.Length)] = (byte)rng.Next(256);
                return b;
            case 2:
                var colons = Enumerable.Range(0, s.Length).Where(i => s[i] == ':').ToList();
                int c = colons[rng.Next(colons.Count)];
                int end = s.IndexOfAny(new[] { ',', '}', '\n' }, c);
                return Encoding.UTF8.GetBytes(s[..(c + 1)] + " " + Values[rng.Next(Values.Length)]
                    + (end < 0 ? "" : s[end..]));
            case 3:
                var quote = s.IndexOf('"', rng.Next(s.Length));
                return Encoding.UTF8.GetBytes(quote < 0 ? s : s[..(quote + 1)] + "zz" + s[(quote + 1)..]);
            case 4:
                int brace = s.IndexOf('{');
                return Encoding.UTF8.GetBytes(s[..(brace + 1)] + "\"unknown_key\": 1, " + s[(brace + 1)..]);
            default:
                var noise = new byte[rng.Next(1, 64)];
                rng.NextBytes(noise);
                return noise;
        }
    }
}
