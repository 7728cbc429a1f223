using Longshot.Tensors.IO;
using Longshot.Video.Formats;
using Xunit;

namespace Longshot.Cli.Tests;

/// <summary>
/// `train extend --model SVD_DIR` (ExVideo's post-tuning of a published Stable Video Diffusion folder, here the tiny
/// random one) on a dataset store: the extension it writes generates with `generate --extension`, ZeRO stage 2 under
/// mpirun trains as one process with the whole batch, SIGTERM stops it with a checkpoint to resume from, and options
/// of the other kind of extension are one line.
/// </summary>
[Collection("Processes")]
public class SvdExtendCliTests
{
    private static string Folder => Path.Combine(Cli.Root, "tests", "Longshot.Diffusion.Tests", "Golden", "svd",
        "pipeline_tiny");

    /// <summary>A 24-frame 16 x 16 Toonworld store, made once.</summary>
    private static readonly Lazy<string> Data = new(() =>
    {
        var data = Path.Combine(Cli.TempDir(), "data");
        var (code, _, err) = Cli.Run("data", "toonworld", "--out", data, "--frames", "24", "--size", "16", "--quiet");
        Assert.True(code == 0, err);
        return data;
    });

    private static string[] Train(string outDir, int steps, params string[] more) =>
        new[] { "train", "extend", "--model", Folder, "--data", Data.Value, "--out", outDir, "--frames", "8",
            "--steps", steps.ToString(), "--lr", "1e-3", "--checkpoint-every", "1", "--quiet" }.Concat(more)
            .ToArray();

    [Fact]
    public void TheWrittenExtensionGenerates()
    {
        var dir = Cli.TempDir();
        try
        {
            var (code, err) = Cli.Finish(Cli.Start(dir, Train("run", 2)));
            Assert.True(code == 0, err);
            var extension = Path.Combine(dir, "run", "model.fp16.safetensors");
            Assert.True(File.Exists(extension));
            var image = Path.Combine(dir, "first.png");
            var frame = new Longshot.Video.Imaging.Frame(16, 16);
            for (int y = 0; y < 16; y++)
                for (int x = 0; x < 16; x++)
                    frame.SetPixel(x, y, new Longshot.Video.Imaging.Rgb((byte)(15 * x), (byte)(15 * y), 90));
            Png.Save(image, frame);
            (code, err) = Cli.Finish(Cli.Start(dir, "generate", "--model", Folder, "--extension", extension,
                "--init-image", image, "--frames", "8", "--size", "16x16", "--steps", "2", "--quiet", "--out",
                "out.y4m"));
            Assert.True(code == 0, err);
            Assert.True(new FileInfo(Path.Combine(dir, "out.y4m")).Length > 8 * 16 * 16);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>Two ranks of one clip each under ZeRO stage 2 reach the weights of one process with two clips per
    /// step (the checkpoints' float32 weights, to summation order).</summary>
    [Fact]
    public void ZeroOverMpiRanksTrainsAsOneProcess()
    {
        var dir = Cli.TempDir();
        try
        {
            var (code, err) = Cli.Finish(Cli.Start(dir, Train("one", 2, "--batch", "2")));
            Assert.True(code == 0, err);
            var p = Cli.StartMpi(dir, 2, Train("two", 2, "--zero", "2"));
            if (p == null) return;
            (code, err) = Cli.Finish(p);
            Assert.True(code == 0, err);
            var one = SafeTensors.Load(Path.Combine(dir, "one", "train_state.safetensors"));
            var two = SafeTensors.Load(Path.Combine(dir, "two", "train_state.safetensors"));
            // Adam's normalisation turns the rounding noise of weights whose gradient is (near) zero into steps of
            // either sign (the cross-attention's query side gets none: softmax over SVD's one context token is 1), so
            // a few weights may differ; a batch split wrongly moves most of them by up to the learning rate.
            long count = 0, off = 0;
            double worst = 0;
            foreach (var key in one.Keys.Where(k => k.StartsWith("model.")))
            {
                var a = one[key].ToArray();
                var b = two[key].ToArray();
                for (int i = 0; i < a.Length; i++)
                {
                    double d = Math.Abs(a[i] - b[i]);
                    count++;
                    if (d > 1e-5) off++;
                    worst = Math.Max(worst, d);
                }
            }
            Assert.True(off <= count / 1000 && worst < 2e-4, $"{off} of {count} weights differ by more than 1e-5 " +
                $"(most {worst:E2})");
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>SIGTERM stops training with exit code 143 and no temporary files; the checkpoint it left
    /// resumes.</summary>
    [Fact]
    public void SigtermStopsCleanlyAndTheRunResumes()
    {
        var dir = Cli.TempDir();
        try
        {
            var state = Path.Combine(dir, "run", "train_state.safetensors");
            var p = Cli.Start(dir, Train("run", 100_000));
            Assert.True(Cli.WaitFor(p, () => File.Exists(state)), "no checkpoint was written");
            Cli.Signal(p, 15);
            var (code, _) = Cli.Finish(p);
            Assert.Equal(143, code);
            Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));
            long step;
            using (var f = SafeTensorsFile.Open(state)) step = long.Parse(f.Metadata["step"]);
            (code, var err) = Cli.Finish(Cli.Start(dir, Train("run", (int)step + 1)));
            Assert.True(code == 0, err);
            Assert.True(File.Exists(Path.Combine(dir, "run", "model.fp16.safetensors")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("--no-adapter", "--no-adapter: extends a Toonworld base model")]
    [InlineData("--frames=2000", "--frames: must be between 2 and 1024")]
    public void BadOptionsAreOneLine(string option, string message)
    {
        var args = Train(Path.Combine(Cli.TempDir(), "run"), 1).Where(a => a != "--frames" && a != "8").Append(option)
            .ToArray();
        var (code, _, err) = Cli.Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void PostTuningOptionsWithoutTheModelAreRefused()
    {
        var (code, _, err) = Cli.Run("train", "extend", "--data", Data.Value, "--out", Cli.TempDir(), "--fps", "24");
        Assert.Equal(2, code);
        Assert.Contains("--fps: is for post-tuning a published model (--model)", err);
    }
}
