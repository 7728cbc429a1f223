using Longshot.Video.Formats;
using Longshot.Video.Imaging;
using Longshot.Video.Store;
using Xunit;

namespace Longshot.Cli.Tests;

/// <summary>`generate --scheme extended` from an initial image, with the shipped base model as the long-context
/// model.</summary>
[Collection("Processes")]
public class ExVideoCliTests
{
    [Fact]
    public void TheInitialImageIsTheVideosFirstFrame()
    {
        var dir = Cli.TempDir();
        try
        {
            Assert.Equal(0, Cli.Run("data", "toonworld", "--out", Path.Combine(dir, "data"), "--episodes", "1",
                "--frames", "40", "--quiet").Code);
            Frame image;
            using (var store = DatasetStore.Open(Path.Combine(dir, "data"))) image = store.Episodes[0].ReadFrame(10);
            var png = Path.Combine(dir, "first.png");
            Png.Save(png, image);
            var (code, err) = Cli.Finish(Cli.Start(dir, "generate", "--prompt", "Wide shot of the beach at noon.",
                "--frames", "20", "--scheme", "extended", "--extended", Cli.Models("toonworld-base"), "--init-image",
                png, "--steps", "4", "--quiet", "--out", "frames/"));
            Assert.True(code == 0, err);
            // Only the frames in the folder; the contact sheets and the page beside it.
            var frames = Directory.GetFiles(Path.Combine(dir, "frames")).Order().ToList();
            Assert.Equal(20, frames.Count);
            Assert.True(File.Exists(Path.Combine(dir, "frames.html")));
            // Frame 0 is the image through the VAE (encoded, given, decoded): close, not equal.
            double psnr = Frame.Psnr(image, Png.Load(frames[0]));
            Assert.True(psnr > 20, $"first frame PSNR {psnr:F1} dB against the initial image");
            var (bad, badErr) = Cli.Finish(Cli.Start(dir, "generate", "--prompt", "a ball", "--frames", "20",
                "--scheme", "dod", "--init-image", png, "--quiet", "--out", "x.gif"));
            Assert.Equal(2, bad);
            Assert.Contains("--scheme extended", badErr);
        }
        finally { Directory.Delete(dir, true); }
    }
}
