using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Video.Formats;
using Xunit;

namespace Longshot.Cli.Tests;

/// <summary>`longshot generate --model DIR --prompt TEXT` on the tiny text-to-video folder
/// (tests/Longshot.Diffusion.Tests/Golden/t2v/pipeline_tiny, with diffusers' frames for the same latents).</summary>
public class TextToVideoCliTests
{
    private static string Golden(params string[] parts) => Path.Combine(
        new[] { Cli.Root, "tests", "Longshot.Diffusion.Tests", "Golden", "t2v" }.Concat(parts).ToArray());

    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-t2v-").FullName;

    [Fact]
    public void GenerateWithGivenLatentsWritesTheReferencesFrames()
    {
        var io = SafeTensors.Load(Golden("pipeline_tiny.io.safetensors"));
        var latents = Path.Combine(_dir, "latents.safetensors");
        SafeTensors.Save(latents, new Dictionary<string, Tensor> { ["latents"] = io["latents"] });
        var frames = Path.Combine(_dir, "frames");
        var (code, _, err) = Cli.Run("generate", "--model", Golden("pipeline_tiny"), "--prompt",
            "A red panda eats bamboo, 4k", "--negative-prompt", "blurry", "--size", "16x8", "--frames", "3",
            "--steps", "4", "--guidance", "7.5", "--latents", latents, "--out", frames, "--quiet");
        Assert.True(code == 0, err);
        var written = Directory.GetFiles(frames, "*.png").Order().ToArray();
        Assert.Equal(3, written.Length);
        var video = io["ddim_video"].Squeeze(0);   // [3, F, H, W] in [-1, 1]
        for (int f = 0; f < 3; f++)
        {
            var theirs = Longshot.Video.Imaging.Frame.FromTensor(video.Narrow(1, f, 1).Squeeze(1).Contiguous());
            Assert.True(Longshot.Video.Imaging.Frame.Psnr(Png.Load(written[f]), theirs) >= 45);
        }
    }

    [Theory]
    [InlineData("--karras", "--karras")]
    [InlineData("--scheme", "--scheme dod")]
    [InlineData("--window", "--window applies to --scheme clips only")]
    [InlineData("--both", "--prompt TEXT or --story FILE")]
    [InlineData("--guidance", "NegativePrompt")]
    public void BadCombinationsAreNamed(string option, string named)
    {
        var story = Path.Combine(_dir, "story.txt");
        File.WriteAllText(story, "0-: a cat\n");
        string[] args = option switch
        {
            "--karras" => new[] { "--prompt", "a cat", "--karras" },
            "--scheme" => new[] { "--prompt", "a cat", "--scheme", "dod" },
            "--window" => new[] { "--prompt", "a cat", "--window", "3" },
            "--both" => new[] { "--prompt", "a cat", "--story", story },
            _ => new[] { "--prompt", "a cat", "--negative-prompt", "dog", "--guidance", "1" },
        };
        var (code, _, err) = Cli.Run(new[] { "generate", "--model", Golden("pipeline_tiny"), "--out",
            Path.Combine(_dir, "x.gif"), "--steps", "1" }.Concat(args).ToArray());
        Assert.Equal(2, code);
        Assert.Contains(named.TrimStart('-') == "NegativePrompt" ? "negative prompt" : named, err);
        Assert.DoesNotContain("   at ", err);
    }
}
