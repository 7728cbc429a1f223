using Longshot.Diffusion.Training;
using Longshot.Diffusion.Vae;
using Longshot.Video.Store;
using Longshot.Video.Toonworld;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>Training runs on a tiny store and a tiny VAE: resume exactness and the stage-2 freezing.</summary>
public class VaeTrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-vaetrain-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);
    private string P(string n) => Path.Combine(_dir, n);

    private VaeTrainOptions Options(string outDir, string stage = "image", int steps = 4) => new()
    {
        Data = P("data"), Out = outDir, Stage = TrainingNames.Parse<VaeStage>(stage, "Stage"), Steps = steps,
        Batch = 2, ClipFrames = 3,
        CheckpointEvery = 1, ValidateEvery = 100,
            Config = new AutoencoderKLConfig { BlockOutChannels = new[] { 32, 32 } },
    };

    private void MakeData() =>
        DatasetBuilder.GenerateToonworld(P("data"),
        new ToonworldSettings { Frames = 40, Width = 16, Height = 16, Seed = 2 }, 2);

    [Fact]
    public void AnInterruptedRunResumesToTheSameWeights()
    {
        MakeData();
        var (straight, _) = VaeTrainer.Train(Options(P("a")));
        using var cts = new CancellationTokenSource();
        var stopAfter2 = new Relay<VaeTrainProgress>(p => { if (p.Step == 2) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => VaeTrainer.Train(Options(P("b")), stopAfter2, cts.Token));
        Assert.True(File.Exists(P("b/" + VaeTrainer.StateFile)));
        var (resumed, _) = VaeTrainer.Train(Options(P("b")));
        foreach (var (name, t) in straight.Parameters.Named) Assert.Equal(t.ToArray(),
            resumed.Parameters[name].ToArray());
        Assert.True(File.Exists(P("b/vae/config.json")));
    }

    [Fact]
    public void StageTwoTrainsOnlyTheTemporalLayers()
    {
        MakeData();
        var (image, _) = VaeTrainer.Train(Options(P("s1"), steps: 2));
        var (video, val) = VaeTrainer.Train(Options(P("s2"), "video", 2) with { InitFrom = P("s1/vae") });
        Assert.True(video.Config.Temporal);
        foreach (var (name, t) in image.Parameters.Named) Assert.Equal(t.ToArray(), video.Parameters[name].ToArray());
        Assert.Contains(video.Parameters.Named, p => AutoencoderKL.IsTemporal(p.Name) && p.Value.ToArray()
            .Any(v => v != 0 && v != 1));
        Assert.InRange(val.Psnr, 1, 100);
        Assert.InRange(val.Ssim, -1, 1);
        var e = Assert.ThrowsAny<LongshotException>(() => VaeTrainer.Train(Options(P("s1"), "video", 3)));
        Assert.Contains("image run", e.Message);
    }

    [Fact]
    public void TheDecoderStageKeepsTheLatentSpace()
    {
        MakeData();
        VaeTrainer.Train(Options(P("s1"), steps: 2));
        var (video, _) = VaeTrainer.Train(Options(P("s2"), "video", 2) with { InitFrom = P("s1/vae") });
        VaeTrainer.Train(Options(P("dec"), "decoder", 3) with { InitFrom = P("s2/vae") });
        var saved = AutoencoderKL.Load(P("dec/vae"));
        // The scaling factor too: the latents mean what they meant.
        Assert.Equal(video.Config.ToJson(), saved.Config.ToJson());
        foreach (var (name, t) in video.Parameters.Named)
        {
            bool same = t.ToArray().AsSpan().SequenceEqual(saved.Parameters[name].ToArray());
            if (!AutoencoderKL.IsDecoder(name)) Assert.True(same, $"{name} changed");
        }
        Assert.Contains(video.Parameters.Named, p => AutoencoderKL.IsDecoder(p.Name)
            && !p.Value.ToArray().AsSpan().SequenceEqual(saved.Parameters[p.Name].ToArray()));
        Assert.Contains(saved.Parameters.Named, p => AutoencoderKL.IsTemporal(p.Name)
            && AutoencoderKL.IsDecoder(p.Name));
        // Latent caches and keyframe stores of the encoder stay valid; another encoder's do not.
        Assert.Equal(LatentCache.VaeHash(P("s2/vae")), LatentCache.VaeHash(P("dec/vae")));
        Assert.NotEqual(LatentCache.VaeHash(P("s1/vae")), LatentCache.VaeHash(P("dec/vae")));
        var e = Assert.ThrowsAny<LongshotException>(() => VaeTrainer.Train(Options(P("x"), "decoder", 1)));
        Assert.Equal(nameof(VaeTrainOptions.InitFrom), Assert.IsType<SettingException>(e).Setting);
    }

    [Fact]
    public void TheSavedScalingFactorGivesLatentsOfUnitVariance()
    {
        MakeData();
        var (vae, _) = VaeTrainer.Train(Options(P("a"), steps: 2));
        Assert.Equal(vae.Config.ScalingFactor, AutoencoderKL.Load(P("a/vae")).Config.ScalingFactor);
        Assert.NotEqual(new AutoencoderKLConfig().ScalingFactor, vae.Config.ScalingFactor);
        // Every frame of a training episode, not just the frames the factor was measured on.
        using var store = DatasetStore.Open(P("data"));
        var ep = store.Split(Splits.Train).First();
        var x = ClipSampler.Load(Enumerable.Range(0, 40).Select(f => (ep, f)).ToList(), 1);
        var z = (vae.Encode(x, 1).Mean * vae.Config.ScalingFactor).ToArray();
        double mean = z.Average(), std = Math.Sqrt(z.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(std, 0.8, 1.25);
    }

}
