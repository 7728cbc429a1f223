using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Xunit;

namespace Longshot.Diffusion.Tests;

public class VaeTests
{
    private static string Golden(string f) => Path.Combine(AppContext.BaseDirectory, "Golden", "vae_small", f);

    private static void Close(Tensor expected, Tensor actual, float tol, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.ToArray(); var a = actual.ToArray();
        for (int i = 0; i < e.Length; i++)
            Assert.True(MathF.Abs(e[i] - a[i]) <= tol * (1 + MathF.Abs(e[i])), $"{what}[{i}]: {a[i]} vs {e[i]}");
    }

    /// <summary>Weights in diffusers' key layout load strictly, and the forward pass matches PyTorch.</summary>
    [Fact]
    public void DiffusersLayoutLoadsByNameAndMatchesPyTorch()
    {
        var all = SafeTensors.Load(Golden("golden.safetensors"));
        var weights = all.Where(kv => !kv.Key.StartsWith("__")).ToDictionary(kv => kv.Key, kv => kv.Value);
        var cfg = AutoencoderKLConfig.Load(Golden("config.json"));
        var vae = AutoencoderKL.Create(cfg);
        var report = vae.Parameters.Load(weights, strict: true);
        Assert.True(report.IsExact);
        using var _ = Tensor.NoGrad();
        var dist = vae.Encode(all["__x"]);
        Close(all["__mean"], dist.Mean, 2e-4f, "mean");
        Close(all["__logvar"], dist.LogVar, 2e-4f, "logvar");
        Close(all["__decoded"], vae.Decode(dist.Mean), 2e-4f, "decoded");
    }

    [Fact]
    public void FreshTemporalLayersReproduceTheImageVae()
    {
        var image = AutoencoderKL.Create(new AutoencoderKLConfig { BlockOutChannels = new[] { 32, 32 } }, seed: 3);
        var video = AutoencoderKL.Create(new AutoencoderKLConfig { BlockOutChannels = new[] { 32, 32 },
            Temporal = true }, seed: 3);
        // Same spatial weights: copy them over by name; the temporal ones stay at their identity init.
        var report = video.Parameters.Load(image.Parameters.StateDict(), strict: false);
        Assert.Empty(report.Unexpected);
        Assert.All(report.Missing, n => Assert.True(AutoencoderKL.IsTemporal(n), n));
        Assert.Contains(report.Missing, n => n.EndsWith("conv1_temporal.weight"));
        Assert.Contains(report.Missing, n => n.Contains("temporal_attentions.0.to_out.0.weight"));
        var x = Tensor.Rand(new Rng(4), -1, 1, 2 * 5, 3, 16, 16); // two videos of five frames
        using var _ = Tensor.NoGrad();
        var zi = image.Encode(x).Mean; var zv = video.Encode(x, frames: 5).Mean;
        Close(zi, zv, 1e-5f, "latents");
        Close(image.Decode(zi), video.Decode(zv, frames: 5), 1e-5f, "decoded");
        // Randomly initialised temporal layers (T-KLVAE-R) do change the output.
        var random = AutoencoderKL.Create(new AutoencoderKLConfig { BlockOutChannels = new[] { 32, 32 },
            Temporal = true, TemporalInit = "random" }, seed: 3);
        random.Parameters.Load(image.Parameters.StateDict(), strict: false);
        Assert.NotEqual(zi.ToArray(), random.Encode(x, frames: 5).Mean.ToArray());
    }

    [Fact]
    public void TemporalLayersMixFramesAndOnlyThem()
    {
        var vae = AutoencoderKL.Create(new AutoencoderKLConfig { BlockOutChannels = new[] { 32, 32 }, Temporal = true,
            TemporalInit = "random" }, seed: 5);
        var x = Tensor.Rand(new Rng(6), -1, 1, 4, 3, 8, 8);
        using var _ = Tensor.NoGrad();
        var together = vae.Encode(x, frames: 4).Mean.ToArray();
        var changed = x.Clone();
        for (int i = 0; i < 3 * 64; i++) changed.Span[3 * 3 * 64 + i] = 0.5f; // change the last frame only
        var after = vae.Encode(changed, frames: 4).Mean.ToArray();
        int per = together.Length / 4;
        Assert.NotEqual(together[..per], after[..per]); // frame 0 sees frame 3 through temporal layers
        var alone = vae.Encode(x, frames: 1).Mean.ToArray();
        var alone2 = vae.Encode(changed, frames: 1).Mean.ToArray();
        Assert.Equal(alone[..per], alone2[..per]); // as still images, frames are independent
    }

    [Fact]
    public void SaveAndLoadUseTheDiffusersFolderLayout()
    {
        var dir = Directory.CreateTempSubdirectory("longshot-vae-").FullName;
        try
        {
            var cfg = new AutoencoderKLConfig { BlockOutChannels = new[] { 32, 32 }, Temporal = true };
            var vae = AutoencoderKL.Create(cfg, 9);
            vae.Save(dir);
            Assert.True(File.Exists(Path.Combine(dir, "config.json")));
            var back = AutoencoderKL.Load(dir);
            Assert.True(back.Config.Temporal);
            foreach (var (name, t) in vae.Parameters.Named) Assert.Equal(t.ToArray(), back.Parameters[name].ToArray());
            // An image VAE folder loads into a temporal architecture with the temporal layers fresh.
            var image = AutoencoderKL.Create(cfg with { Temporal = false }, 9);
            var imgDir = Path.Combine(dir, "image");
            image.Save(imgDir);
            Assert.Throws<Longshot.Tensors.Nn.StateDictMismatchException>(() => AutoencoderKL.Load(imgDir, cfg));
            var lifted = AutoencoderKL.Load(imgDir, cfg, strict: false);
            Assert.True(lifted.Config.Temporal);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadInputsAreNamed()
    {
        var vae = AutoencoderKL.Create(new AutoencoderKLConfig { BlockOutChannels = new[] { 32, 32 } });
        Assert.Contains("divisible", Assert.ThrowsAny<LongshotException>(() => vae.Encode(Tensor.Zeros(1, 3, 15, 16)))
            .Message);
        Assert.Contains("[N, 3, H, W]",
            Assert.ThrowsAny<LongshotException>(() => vae.Encode(Tensor.Zeros(1, 4, 16, 16)))
            .Message);
        Assert.Contains("norm_num_groups",
            Assert.ThrowsAny<LongshotException>(() =>
            AutoencoderKL.Create(new AutoencoderKLConfig { BlockOutChannels = new[] { 48 } })).Message);
    }
}
