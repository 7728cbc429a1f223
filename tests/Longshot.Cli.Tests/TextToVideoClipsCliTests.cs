using Xunit;

namespace Longshot.Cli.Tests;

/// <summary>
/// `generate --model DIR --story FILE --scheme clips` (Video-Infinity on a published text-to-video folder, here the
/// tiny random one): under mpirun on 2 and 3 ranks it writes the bytes of the single-process run, and the storyline's
/// segments are the clips' prompts.
/// </summary>
[Collection("Processes")]
public class TextToVideoClipsCliTests
{
    private static string Folder => Path.Combine(Cli.Root, "tests", "Longshot.Diffusion.Tests", "Golden", "t2v",
        "pipeline_tiny");

    private static string[] Generate(string dir, string outPath, string story = "0-6: a red panda eats bamboo\n" +
        "6-: a panda sleeps in a tree\n")
    {
        File.WriteAllText(Path.Combine(dir, "story.txt"), story);
        return new[] { "generate", "--model", Folder, "--story", Path.Combine(dir, "story.txt"), "--frames", "12",
            "--size", "16x8", "--steps", "3", "--solver", "sde-dpm++", "--scheme", "clips", "--clip-frames", "4",
            "--window", "2", "--global-frames", "4", "--seed", "3", "--quiet", "--out", Path.Combine(dir, outPath) };
    }

    private static readonly Lazy<byte[]> Reference = new(() =>
        Cli.OutputBytes(dir => Generate(dir, "out.y4m"), "out.y4m")!);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void UnderMpirunTheVideoIsTheSameAsInOneProcess(int ranks)
    {
        if (Cli.OutputBytes(dir => Generate(dir, "out.y4m"), "out.y4m", ranks) is { } bytes)
            Assert.Equal(Reference.Value, bytes);
    }

    [Fact]
    public void TheStorylinesSegmentsAreTheClipsPrompts()
    {
        var other = Cli.OutputBytes(dir => Generate(dir, "other.y4m", "0-6: a red panda eats bamboo\n" +
            "6-: a dog runs on a beach\n"), "other.y4m")!;
        Assert.Equal(Reference.Value.Length, other.Length);
        Assert.NotEqual(Reference.Value, other);
    }

    [Fact]
    public void WithoutClipsItRefusesToRunOverRanks()
    {
        var dir = Cli.TempDir();
        try
        {
            var args = Generate(dir, "o.y4m").TakeWhile(a => a != "--scheme").Concat(new[] { "--out", "o.y4m" })
                .ToArray();
            if (Cli.StartMpi(dir, 2, args) is not { } p) return;
            var (code, err) = Cli.Finish(p, 120);
            Assert.NotEqual(0, code);
            Assert.Contains("--scheme clips", err);
        }
        finally { Directory.Delete(dir, true); }
    }
}
