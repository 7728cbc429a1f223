using System.Text.Json;
using Longshot.Diffusion.Families;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.TextToVideo;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>
/// The whole text-to-video pipeline against diffusers v0.25's TextToVideoSDPipeline on a tiny published-layout folder
/// (tools/make_t2v_pipeline_golden.py: every weight random; its DDIM scheduler, and SDE-DPM-Solver++ with Karras
/// sigmas given the noise the reference drew), from the same initial latents.
/// </summary>
public class TextToVideoPipelineTests
{
    private static string Golden(params string[] parts) =>
        Path.Combine(new[] { AppContext.BaseDirectory, "Golden", "t2v" }.Concat(parts).ToArray());

    private static (TextToVideoSettings Settings, IReadOnlyDictionary<string, Tensor> Io) Case()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Golden("pipeline_tiny.json")));
        var r = doc.RootElement;
        var settings = new TextToVideoSettings
        {
            Prompt = r.GetProperty("prompt").GetString()!,
            NegativePrompt = r.GetProperty("negative_prompt").GetString(),
            Frames = r.GetProperty("frames").GetInt32(), Height = r.GetProperty("height").GetInt32(),
            Width = r.GetProperty("width").GetInt32(), Steps = r.GetProperty("steps").GetInt32(),
            GuidanceScale = r.GetProperty("guidance_scale").GetSingle(),
        };
        return (settings, SafeTensors.Load(Golden("pipeline_tiny.io.safetensors")));
    }

    [Fact]
    public void MatchesDiffusersWithTheFoldersDdim()
    {
        var pipe = ModelFamilies.Load<TextToVideoPipeline>(Golden("pipeline_tiny"));
        var (settings, io) = Case();
        var latents = pipe.Denoise(settings, new TextToVideoNoise(io["latents"]));
        SvdUnetParityTests.AssertClose(io["ddim_latents_out"], latents, 2e-4);
        var frames = pipe.Decode(latents, 2);
        Assert.False(frames.RequiresGrad);
        // diffusers' video is [1, 3, F, H, W]; Longshot's frames [F, 3, H, W].
        var expected = io["ddim_video"].Squeeze(0).Permute(1, 0, 2, 3).Contiguous();
        SvdUnetParityTests.AssertClose(expected, frames, 2e-4);
    }

    [Fact]
    public void MatchesDiffusersWithSdeDpmSolverAndKarrasSigmas()
    {
        var pipe = TextToVideoPipeline.Load(Golden("pipeline_tiny"));
        pipe.SchedulerConfig = pipe.SchedulerConfig with
        {
            ClassName = DiffusersSchedulerConfig.DpmSolver, AlgorithmType = "sde-dpmsolver++", UseKarrasSigmas = true,
        };
        var (settings, io) = Case();
        var noise = Enumerable.Range(0, settings.Steps).Select(i => io[$"sde_noise_{i}"]).ToArray();
        var latents = pipe.Denoise(settings, new TextToVideoNoise(io["latents"], noise));
        SvdUnetParityTests.AssertClose(io["sde_latents_out"], latents, 2e-4);
    }

    private sealed class CancelAfter(int steps, CancellationTokenSource cts) : IProgress<StepProgress>
    {
        public void Report(StepProgress p)
        {
            if (p.Stage == "denoise" && p.Done == steps) cts.Cancel();
        }
    }

    /// <summary>A run stopped after two of four steps continues from its run folder to the bytes of an uninterrupted
    /// one (the stochastic solver's state and its random stream included); a folder of another job is refused.
    /// </summary>
    [Fact]
    public void AStoppedRunContinuesFromItsRunFolderToTheSameLatents()
    {
        var pipe = TextToVideoPipeline.Load(Golden("pipeline_tiny"));
        pipe.SchedulerConfig = pipe.SchedulerConfig with
        {
            ClassName = DiffusersSchedulerConfig.DpmSolver, AlgorithmType = "sde-dpmsolver++", UseKarrasSigmas = true,
        };
        var (settings, io) = Case();
        var noise = new TextToVideoNoise(io["latents"]);
        var whole = pipe.Denoise(settings, noise).ToArray();
        var dir = Directory.CreateTempSubdirectory("longshot-t2v-run-").FullName;
        try
        {
            using var cts = new CancellationTokenSource();
            Assert.ThrowsAny<OperationCanceledException>(() =>
                pipe.Denoise(settings, noise, new CancelAfter(2, cts), cts.Token, dir));
            var resumed = pipe.Denoise(settings, noise, null, default, dir).ToArray();
            Assert.Equal(whole, resumed);
            Assert.Throws<InputFileException>(() =>
                pipe.Denoise(settings with { Seed = 9 }, noise, null, default, dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ANegativePromptWithoutGuidanceIsNamed()
    {
        var pipe = TextToVideoPipeline.Load(Golden("pipeline_tiny"));
        var e = Assert.Throws<SettingException>(() => pipe.Denoise(new TextToVideoSettings
        {
            Prompt = "a cat", NegativePrompt = "blurry", GuidanceScale = 1, Steps = 1, Frames = 1,
        }));
        Assert.Equal("NegativePrompt", e.Setting);
    }
}
