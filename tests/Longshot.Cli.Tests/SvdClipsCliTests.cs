using Longshot.Video.Formats;
using Xunit;

namespace Longshot.Cli.Tests;

/// <summary>
/// `generate --model SVD_DIR --init-image PNG --scheme clips` (Video-Infinity over Stable Video Diffusion, here the
/// tiny random folder): under mpirun on 2 and 3 ranks it writes the bytes of the single-process run.
/// </summary>
[Collection("Processes")]
public class SvdClipsCliTests
{
    private static string Folder => Path.Combine(Cli.Root, "tests", "Longshot.Diffusion.Tests", "Golden", "svd",
        "pipeline_tiny");

    private static string[] Generate(string dir, string outPath)
    {
        var image = Path.Combine(dir, "first.png");
        var frame = new Longshot.Video.Imaging.Frame(40, 24);
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 40; x++)
                frame.SetPixel(x, y, new Longshot.Video.Imaging.Rgb((byte)(6 * x), (byte)(10 * y), (byte)(x * y)));
        Png.Save(image, frame);
        return new[] { "generate", "--model", Folder, "--init-image", image, "--frames", "12", "--size", "40x24",
            "--steps", "2", "--scheme", "clips", "--clip-frames", "4", "--window", "2", "--global-frames", "4",
            "--seed", "3", "--quiet", "--out", Path.Combine(dir, outPath) };
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
    public void ClipOptionsWithoutTheSchemeAreRefused()
    {
        var dir = Cli.TempDir();
        try
        {
            var all = Generate(dir, "o.y4m");
            var args = all.Where((a, i) => a != "--scheme" && (i == 0 || all[i - 1] != "--scheme")).ToArray();
            var (code, err) = Cli.Finish(Cli.Start(dir, args));
            Assert.Equal(2, code);
            Assert.Contains("--clip-frames applies to --scheme clips only", err);
        }
        finally { Directory.Delete(dir, true); }
    }
}
