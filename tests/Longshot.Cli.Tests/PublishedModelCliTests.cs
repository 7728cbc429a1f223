using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Video.Formats;
using Xunit;

namespace Longshot.Cli.Tests;

/// <summary>`longshot model info|run` and `longshot generate --model` on the Stable Video Diffusion fixtures
/// (tests/Longshot.Diffusion.Tests/Golden/svd: small random models in the published layout, with the reference's
/// outputs).</summary>
public class PublishedModelCliTests
{
    private static string Golden(params string[] parts) => Path.Combine(
        new[] { Cli.Root, "tests", "Longshot.Diffusion.Tests", "Golden", "svd" }.Concat(parts).ToArray());

    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-published-").FullName;

    [Fact]
    public void InfoNamesTheFamilyComponentsAndStoredTypes()
    {
        using var process = Cli.Start(_dir, "model", "info", Golden("pipeline_tiny"));
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("StableVideoDiffusionPipeline", output);
        Assert.Contains("UNetSpatioTemporalConditionModel", output);
        Assert.Contains("1,294,096 parameters  F16", output);
        Assert.Contains("CLIPVisionModelWithProjection", output);
        Assert.Contains("longshot generate --model DIR --init-image PNG", output);
    }

    [Fact]
    public void RunWritesTheUnetsOutputAsTheReferenceComputesIt()
    {
        var outPath = Path.Combine(_dir, "out.safetensors");
        var (code, _, err) = Cli.Run("model", "run", Golden("unet_small_fp16"), "--inputs",
            Golden("unet_small_fp16.io.safetensors"), "--out", outPath);
        Assert.True(code == 0, err);
        var expected = SafeTensors.Load(Golden("unet_small_fp16.io.safetensors"))["sample_out"].ToArray();
        var actual = SafeTensors.Load(outPath)["sample"].ToArray();
        double scale = expected.Max(v => Math.Abs(v));
        Assert.True(expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)) <= 2e-4 * scale);
    }

    [Fact]
    public void RunRefusesInputsThatDoNotFitInOneLine()
    {
        var outPath = Path.Combine(_dir, "out.safetensors");
        var (code, _, err) = Cli.Run("model", "run", Golden("pipeline_tiny", "vae"), "--method", "decode",
            "--inputs", Golden("unet_tiny.io.safetensors"), "--out", outPath);
        Assert.Equal(2, code);
        Assert.Contains("num_frames", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(File.Exists(outPath));
        (code, _, err) = Cli.Run("model", "run", Golden("unet_tiny"), "--method", "decode", "--inputs",
            Golden("unet_tiny.io.safetensors"), "--out", outPath);
        Assert.Equal(2, code);
        Assert.Contains("--method", err);
    }

    [Fact]
    public void GenerateWithGivenLatentsWritesTheReferencesFrames()
    {
        var (io, image, latents) = ReferenceInputs();
        var frames = Path.Combine(_dir, "frames");
        var (code, _, err) = Cli.Run("generate", "--model", Golden("pipeline_tiny"), "--init-image", image,
            "--size", "40x24", "--frames", "3", "--steps", "3", "--decode-chunk-size", "2", "--latents", latents,
            "--out", frames, "--quiet");
        Assert.True(code == 0, err);
        var written = Directory.GetFiles(frames, "*.png").Order().ToArray();
        Assert.Equal(3, written.Length);
        for (int f = 0; f < 3; f++)
        {
            var theirs = Longshot.Video.Imaging.Frame.FromTensor(io["frames"].Narrow(0, f, 1).Squeeze(0) * 2f - 1f);
            Assert.True(Longshot.Video.Imaging.Frame.Psnr(Png.Load(written[f]), theirs) >= 45);
        }
    }

    [Fact]
    public void ARunFolderResumesTheSameJobAndRefusesAnother()
    {
        var image = Path.Combine(_dir, "image.png");
        Png.Save(image, new Longshot.Video.Imaging.Frame(40, 24));
        var run = Path.Combine(_dir, "run");
        string[] Args(string seed, string outName) => new[] { "generate", "--model", Golden("pipeline_tiny"),
            "--init-image", image, "--size", "40x24", "--frames", "3", "--steps", "2", "--seed", seed, "--run", run,
            "--out", Path.Combine(_dir, outName), "--quiet" };
        Assert.Equal(0, Cli.Run(Args("5", "a.gif")).Code);
        Assert.True(File.Exists(Path.Combine(run, "svd-state.safetensors")));
        Assert.Equal(0, Cli.Run(Args("5", "b.gif")).Code);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "a.gif")), File.ReadAllBytes(Path.Combine(_dir, "b.gif")));
        var (code, _, err) = Cli.Run(Args("6", "c.gif"));
        Assert.Equal(2, code);
        Assert.Contains("another job", err);
    }

    [Theory]
    [InlineData("--size", "40x25", "--size")]
    [InlineData("--size", "forty", "--size")]
    [InlineData("--steps", "0", "--steps")]
    public void BadSettingsAreNamed(string option, string value, string named)
    {
        var image = Path.Combine(_dir, "image.png");
        Png.Save(image, new Longshot.Video.Imaging.Frame(40, 24));
        var (code, _, err) = Cli.Run("generate", "--model", Golden("pipeline_tiny"), "--init-image", image,
            "--frames", "3", option, value, "--out", Path.Combine(_dir, "x.gif"));
        Assert.Equal(2, code);
        Assert.Contains(named, err);
        Assert.False(File.Exists(Path.Combine(_dir, "x.gif")));
    }

    [Fact]
    public void AnUnreadableImageAndAFolderOfAnotherFamilyAreNamed()
    {
        var bad = Path.Combine(_dir, "bad.png");
        File.WriteAllText(bad, "not a png");
        var (code, _, err) = Cli.Run("generate", "--model", Golden("pipeline_tiny"), "--init-image", bad,
            "--out", Path.Combine(_dir, "x.gif"));
        Assert.Equal(2, code);
        Assert.Contains("--init-image", err);
        var image = Path.Combine(_dir, "image.png");
        Png.Save(image, new Longshot.Video.Imaging.Frame(40, 24));
        (code, _, err) = Cli.Run("generate", "--model", Golden("unet_tiny"), "--init-image", image,
            "--out", Path.Combine(_dir, "x.gif"));
        Assert.Equal(2, code);
        Assert.Contains("model_index.json", err);
    }

    [Fact]
    public void AMissingShardIsNamed()
    {
        var folder = Path.Combine(_dir, "unet");
        Directory.CreateDirectory(folder);
        foreach (var f in Directory.GetFiles(Golden("unet_small_fp16")))
            if (!f.EndsWith("00003-of-00003.fp16.safetensors")) File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
        var (code, _, err) = Cli.Run("model", "run", folder, "--inputs", Golden("unet_small_fp16.io.safetensors"),
            "--out", Path.Combine(_dir, "o.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("00003-of-00003", err);
    }

    /// <summary>The reference run's outputs, and its first frame and noise written as the command line takes
    /// them.</summary>
    private (Dictionary<string, Tensor> Io, string Image, string Latents) ReferenceInputs()
    {
        var io = SafeTensors.Load(Golden("pipeline_tiny.io.safetensors"));
        var image = Path.Combine(_dir, "image.png");
        Png.Save(image, Longshot.Video.Imaging.Frame.FromTensor(io["image"]));
        var latents = Path.Combine(_dir, "latents.safetensors");
        SafeTensors.Save(latents, new Dictionary<string, Tensor>
        {
            ["latents"] = io["latents"], ["image_noise"] = io["image_noise"],
        });
        return (io, image, latents);
    }

    /// <summary>An ExVideo extension (DiffSynth names) as its training starts it, for the fixture's UNet: frame
    /// tables of <paramref name="frames"/> reflected positions and identity convolutions.</summary>
    private string IdentityExtension(int frames)
    {
        var config = Longshot.Diffusion.Svd.SvdUnetConfig.Load(Golden("pipeline_tiny", "unet", "config.json"));
        var tensors = Longshot.Diffusion.Svd.ExVideoSvdExtension.Initial(config, frames);
        var path = Path.Combine(_dir, "extension.safetensors");
        SafeTensors.Save(path, tensors, DType.F16);
        return path;
    }

    [Fact]
    public void AnExtensionAtItsInitialisationGivesTheBaseModelsFramesAndBoundsTheFrames()
    {
        var extension = IdentityExtension(4);
        var (io, image, latents) = ReferenceInputs();
        var frames = Path.Combine(_dir, "frames");
        var (code, _, err) = Cli.Run("generate", "--model", Golden("pipeline_tiny"), "--extension", extension,
            "--init-image", image, "--size", "40x24", "--frames", "3", "--steps", "3", "--decode-chunk-size", "2",
            "--latents", latents, "--out", frames, "--quiet");
        Assert.True(code == 0, err);
        var written = Directory.GetFiles(frames, "*.png").Order().ToArray();
        for (int f = 0; f < 3; f++)
        {
            var theirs = Longshot.Video.Imaging.Frame.FromTensor(io["frames"].Narrow(0, f, 1).Squeeze(0) * 2f - 1f);
            Assert.True(Longshot.Video.Imaging.Frame.Psnr(Png.Load(written[f]), theirs) >= 45);
        }
        (code, _, err) = Cli.Run("generate", "--model", Golden("pipeline_tiny"), "--extension", extension,
            "--init-image", image, "--size", "40x24", "--frames", "5", "--out", Path.Combine(_dir, "x.gif"));
        Assert.Equal(2, code);
        Assert.Contains("--frames", err);
        (code, _, err) = Cli.Run("model", "info", extension);
        Assert.Equal(2, code);
        Assert.Contains("extension.safetensors", err);
    }
}
