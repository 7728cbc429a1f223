using Xunit;

namespace Longshot.Cli.Tests;

/// <summary>
/// Bad input, as a hostile user would give it: every case ends with exit code 2 and one line naming the option or
/// file and the problem, never a stack trace, and before any expensive work.
/// </summary>
public class BadInputTests
{
    private static readonly string Story = Cli.Models("demo-story.txt");

    private static void Refused((int Code, string Out, string Err) r, params string[] mentions)
    {
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
        Assert.DoesNotContain("   at ", r.Err);
        Assert.DoesNotContain("Exception", r.Err);
        foreach (var m in mentions) Assert.Contains(m, r.Err);
    }

    [Theory]
    [InlineData("demo")]
    [InlineData("info")]
    [InlineData("generate")]
    [InlineData("data", "toonworld")]
    [InlineData("data", "render")]
    [InlineData("train", "vae")]
    [InlineData("train", "global")]
    [InlineData("train", "base")]
    [InlineData("train", "extend")]
    [InlineData("train", "extractor")]
    [InlineData("eval")]
    [InlineData("eval", "mtd")]
    [InlineData("eval", "keyframes")]
    public void EveryCommandPrintsItsOwnOptions(params string[] command)
    {
        var r = Cli.Run(command.Append("--help").ToArray());
        Assert.Equal(0, r.Code);
        Assert.Contains("Usage:", r.Out);
        Assert.Contains($"{string.Join(" ", command)} ", r.Out);
        Assert.Contains("[options]", r.Out);
        Assert.Contains("--help", r.Out);
    }

    [Fact]
    public void ShellCompletionOffersOptionsAndChoices()
    {
        // The [suggest] directive is what dotnet-suggest's shell shims call.
        var schemes = Cli.Run("[suggest:20]", "generate --scheme ");
        Assert.Equal(0, schemes.Code);
        var offered = schemes.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim());
        Assert.Equal(new[] { "ar", "clips", "dod", "extended" }, offered);
        Assert.Contains("--regenerate", Cli.Run("[suggest:13]", "generate --re").Out);
    }

    [Theory]
    [InlineData("--frames", "abc")]
    [InlineData("--frames", "1000000000000")]
    [InlineData("--frames", "10000000")]
    [InlineData("--frames", "0")]
    [InlineData("--guidance", "NaN")]
    [InlineData("--guidance", "Infinity")]
    [InlineData("--guidance", "1e308")]
    [InlineData("--steps", "0")]
    [InlineData("--global-steps", "-1")]
    [InlineData("--global-steps", "1001")]
    [InlineData("--fill-start", "0")]
    [InlineData("--fill-start", "1.5")]
    [InlineData("--device", "gpu")]
    [InlineData("--length", "100000")]
    [InlineData("--seed", "-1")]
    [InlineData("--scheme", "zigzag")]
    [InlineData("--sampler", "euler")]
    [InlineData("--regenerate", "9-3")]
    public void NumbersAndChoicesAreCheckedAndNamed(string option, string value)
    {
        var r = Cli.Run("generate", "--story", Story, "--out", "x.gif", option, value);
        Refused(r, option);
        Assert.Equal(2, r.Err.Trim().Split('\n').Length); // the problem, then where to find the options
    }

    [Fact]
    public void UnknownOptionsAndMissingValuesAreRefused()
    {
        Refused(Cli.Run("generate", "--story", Story, "--out", "x.gif", "--bogus", "1"), "--bogus");
        Refused(Cli.Run("generate", "--story", Story), "--out");
        Refused(Cli.Run("generate", "--story", Story, "--out"), "--out");
    }

    [Fact]
    public void ADepthThatCannotWorkIsRefused()
    {
        Refused(Cli.Run("generate", "--prompt", "a red ball", "--frames", "1024", "--depth", "2", "--out", "x.gif"),
            "depth 2 with L = 16 reaches at most 226 frames", "depth 3 is needed");
        Refused(Cli.Run("generate", "--prompt", "a red ball", "--scheme", "ar", "--depth", "3", "--out", "x.gif"),
            "--depth is for dod");
    }

    [Fact]
    public void TrainingDevicesAreCheckedByName()
    {
        var dir = Cli.TempDir();
        try
        {
            var m = Path.Combine(dir, "m");
            foreach (var cmd in new[] { new[] { "train", "global" }, new[] { "train", "vae" },
                new[] { "train", "extend", "--base", dir } })
                Refused(Cli.Run(cmd.Concat(new[] { "--data", dir, "--out", m, "--device", "gpu" }).ToArray()),
                    "--device");
            // Without a GPU (CI): the device is the one-line error; with one, training gets as far as the data.
            var r = Cli.Run("train", "global", "--data", Path.Combine(dir, "none"), "--out", m, "--device", "cuda");
            Refused(r);
            Assert.True(r.Err.Contains("no CUDA device found") || r.Err.Contains("none"), r.Err);
            Assert.False(Directory.Exists(m));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void TrainingDataAndKeyframeStoresAreCheckedByName()
    {
        var dir = Cli.TempDir();
        try
        {
            var m = Path.Combine(dir, "m");
            Refused(Cli.Run("train", "global", "--out", m), "--data or --keyframes");
            Refused(Cli.Run("train", "global", "--keyframes", dir, "--out", m), "--keyframes", "not a keyframe store");
            Refused(Cli.Run("train", "base", "--keyframes", dir, "--out", m, "--init", dir), "--keyframes");
            Refused(Cli.Run("data", "keyframes", "--out", m, "--stories", "0"), "--stories");
            Refused(Cli.Run("data", "keyframes", "--out", m, "--levels", "0"), "--levels");
            Refused(Cli.Run("train", "local", "--keyframes", dir, "--out", m, "--figure-weight", "-1"),
                "--figure-weight");
            Assert.False(Directory.Exists(m));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void PathsThatCannotWorkAreNamedBeforeAnyWork()
    {
        var dir = Cli.TempDir();
        try
        {
            var file = Path.Combine(dir, "afile");
            File.WriteAllText(file, "x");
            Refused(Cli.Run("generate", "--story", Story, "--frames", "16", "--out", "x.gif", "--run", file), "--run",
                "afile");
            Refused(Cli.Run("generate", "--story", Story, "--frames", "16", "--out", Path.Combine(file, "o.gif")),
                "--out", "afile");
            Refused(Cli.Run("generate", "--story", Story, "--frames", "16", "--out", Path.Combine(dir, "o.avi")),
                "--out", ".avi");
            Refused(Cli.Run("generate", "--story", Path.Combine(dir, "none.txt"), "--out", "x.gif"), "none.txt");
            Refused(Cli.Run("generate", "--story", Story, "--frames", "16", "--out", "x.gif", "--global", dir),
                "--global: ", "model_index.json");
            Refused(Cli.Run("train", "global", "--data", Path.Combine(dir, "nodata"), "--out", Path.Combine(dir, "m"),
                "--channels", "8,16"), "norm_num_groups");
            // The video's text comes from exactly one of --story and --prompt; an initial image must be a PNG and goes
            // with --scheme extended only.
            Refused(Cli.Run("generate", "--story", Story, "--prompt", "a ball", "--out", "x.gif"), "--prompt");
            Refused(Cli.Run("generate", "--out", "x.gif"), "--story");
            Refused(Cli.Run("generate", "--prompt", "a ball", "--out", "x.gif", "--scheme", "extended",
                "--init-image", file), "--init-image", "afile");
            Refused(Cli.Run("generate", "--prompt", "a ball", "--out", "x.gif", "--init-image",
                Path.Combine(dir, "none.png")), "--init-image", "none.png");
            Refused(Cli.Run("generate", "--prompt", "a ball", "--out", "x.gif", "--scheme", "extended", "--extended",
                dir), "--extended: ", "model_index.json");
            Refused(Cli.Run("generate", "--story", Story, "--frames", "16", "--out", "x.gif", "--scheme", "clips",
                "--run", dir, "--regenerate", "2-5"), "--regenerate", "--scheme dod");
            Refused(Cli.Run("train", "extend", "--data", Path.Combine(dir, "nodata"), "--out", Path.Combine(dir, "m"),
                "--base", dir, "--frames", "32"), "--base: ", "model_index.json");
            Assert.Empty(Directory.GetFiles(dir, "*.gif"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AbsentListOptionsMeanTheirDefaults()
    {
        // An absent --channels, --lengths or --levels once arrived as an empty list and was refused.
        var dir = Cli.TempDir();
        try
        {
            var none = Path.Combine(dir, "none");
            Refused(Cli.Run("train", "global", "--data", none, "--out", Path.Combine(dir, "g")),
                "dataset folder not found");
            Refused(Cli.Run("train", "vae", "--data", none, "--out", Path.Combine(dir, "v")),
                "dataset folder not found");
            Refused(Cli.Run("eval", "--data", none), "dataset folder not found");
            Refused(Cli.Run("eval", "mtd", "--data", none, "--model", Cli.Models("toonworld-local")),
                "dataset folder not found");
            Refused(Cli.Run("eval", "--data", none, "--schemes", "dod,extended"), "--schemes: 'extended'");
            Refused(Cli.Run("eval", "keyframes", "--data", none), "dataset folder not found");
            var pngs = Directory.CreateDirectory(Path.Combine(dir, "pngs")).FullName;
            Refused(Cli.Run("eval", "story", "--frames", pngs, "--story", Story), "--frames: ", "no PNG files");
            Video.Formats.Png.Save(Path.Combine(pngs, "frame_000000.png"), new Video.Imaging.Frame(64, 64));
            Refused(Cli.Run("eval", "story", "--frames", pngs, "--story", Story, "--reference", none),
                "--reference: dataset folder not found");
            Refused(Cli.Run("eval", "story", "--frames", pngs, "--story", Story, "--round-trip"), "--round-trip",
                "--reference");
            Refused(Cli.Run("eval", "story", "--frames", pngs, "--story", Story, "--reference", none, "--vae",
                Cli.Models("toonworld-vae")), "--vae", "--round-trip");
            Refused(Cli.Run("eval", "keyframes", "--data", none, "--windows", "0"), "--windows");
            Refused(Cli.Run("eval", "keyframes", "--data", none, "--frames", "1"), "--frames");
            Refused(Cli.Run("eval", "keyframes", "--data", none, "--global-steps", "x"), "--global-steps");
            Refused(Cli.Run("eval", "exvideo", "--data", none, "--dod-local", Cli.Models("toonworld-extended")),
                "--dod-global and --dod-local go together");
            Refused(Cli.Run("eval", "exvideo", "--data", none, "--dod-local", Cli.Models("toonworld-local"),
                "--dod-global", Cli.Models("toonworld-global")), "--dod-local: ");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void StoryProblemsNameTheLine()
    {
        var dir = Cli.TempDir();
        try
        {
            var story = Path.Combine(dir, "s.txt");
            File.WriteAllText(story, "0-10: beach\n12-20: forest\n");
            Refused(Cli.Run("generate", "--story", story, "--out", Path.Combine(dir, "o.gif")), "s.txt:2");
            File.WriteAllText(story, "0-: a" + new string(' ', 1_000_000) + "x\n");
            Refused(Cli.Run("generate", "--story", story, "--out", Path.Combine(dir, "o.gif"), "--frames",
                "2147483647"),
                "--frames");
            File.WriteAllText(story, "0-99999999999: beach\n");
            Refused(Cli.Run("generate", "--story", story, "--out", Path.Combine(dir, "o.gif")), "s.txt:1");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MissingModelFoldersAreNamedByTheirOption()
    {
        var dir = Cli.TempDir();
        try
        {
            var none = Path.Combine(dir, "none");
            var data = Path.Combine(dir, "data");
            Refused(Cli.Run("generate", "--story", Story, "--frames", "16", "--out", "x.gif", "--vae", none),
                "--vae: model folder not found", "none");
            Refused(Cli.Run("generate", "--story", Story, "--frames", "16", "--out", "x.gif", "--local", none),
                "--local: model folder not found");
            // A diffusion model's folder is not a VAE's: each kind is checked for its own index file.
            Refused(Cli.Run("generate", "--story", Story, "--frames", "16", "--out", "x.gif", "--vae",
                Cli.Models("toonworld-global")), "--vae: ", "config.json");
            Refused(Cli.Run("eval", "keyframes", "--data", data, "--global", none), "--global: model folder not found");
            Refused(Cli.Run("eval", "mtd", "--data", data, "--model", none), "--model: model folder not found");
            Refused(Cli.Run("train", "global", "--data", data, "--out", Path.Combine(dir, "g"), "--init", none),
                "--init: model folder not found");
            Refused(Cli.Run("data", "keyframes", "--out", Path.Combine(dir, "k"), "--vae", none),
                "--vae: model folder not found");
            Assert.False(Directory.Exists(Path.Combine(dir, "g")));
            Assert.False(Directory.Exists(Path.Combine(dir, "k")));
        }
        finally { Directory.Delete(dir, true); }
    }

    public static TheoryData<string, string> BrokenFiles => new()
    {
        { "text_encoder/config.json", "" },
        { "text_encoder/config.json", "{\"vocab_size\": 65, \"max_posi" },
        { "text_encoder/config.json", "hello" },
        { "text_encoder/config.json", "[]" },
        { "text_encoder/config.json", "\u0001\u00ff\u0000binary" },
        { "text_encoder/config.json", "{\"vocab_size\":\"abc\"}" },
        { "text_encoder/config.json", "{\"vocab_size\": 65, \"max_position_embeddings\": 48, \"hidden_size\": 128, " +
                                      "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"intermediate_size\": " +
                                          "256, \"extra\": 1}" },
        { "tokenizer/tokenizer.json", "{}" },
        { "model_index.json", "{\"unet\": 3}" },
        { "model_index.json", "garbage" },
        { "unet/config.json", "{}" },
        { "scheduler/scheduler_config.json", "{}" },
        { "unet/diffusion_pytorch_model.safetensors",
            "\u0008\u0000\u0000\u0000\u0000\u0000\u0000\u0000{\"\u00ff\":1}" },
    };

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    public void ABrokenModelFolderIsNamedNotCrashedOn(string file, string content)
    {
        var dir = Cli.TempDir();
        try
        {
            var model = Path.Combine(dir, "global");
            CopyFolder(Cli.Models("toonworld-global"), model);
            File.WriteAllText(Path.Combine(model, file), content, new System.Text.UTF8Encoding(false));
            var r = Cli.Run("generate", "--story", Story, "--frames", "16", "--out", Path.Combine(dir, "o.gif"),
                "--global", model);
            Refused(r, Path.GetFileName(file));
            Assert.False(File.Exists(Path.Combine(dir, "o.gif")));
        }
        finally { Directory.Delete(dir, true); }
    }

    internal static void CopyFolder(string from, string to)
    {
        foreach (var d in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(d.Replace(from, to));
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(f, f.Replace(from, to));
    }
}
