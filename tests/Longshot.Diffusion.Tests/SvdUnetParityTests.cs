using Longshot.Diffusion.Families;
using Longshot.Diffusion.Svd;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>
/// Stable Video Diffusion's UNet against diffusers v0.25 (Golden/svd, written by tools/make_svd_golden.py): small
/// random models in the published folder layout, every weight random, two videos per batch (so the temporal
/// blocks' context order is exercised), fp32 files and fp16 files (single and sharded with an index).
/// </summary>
public class SvdUnetParityTests
{
    internal static string Golden(params string[] parts) =>
        Path.Combine(new[] { AppContext.BaseDirectory, "Golden", "svd" }.Concat(parts).ToArray());

    [Theory]
    [InlineData("unet_tiny")]
    [InlineData("unet_small")]
    [InlineData("unet_tiny_fp16")]
    [InlineData("unet_small_fp16")]
    public void MatchesDiffusers(string name)
    {
        var unet = ModelFamilies.Load<SvdUnet>(Golden(name));
        var io = SafeTensors.Load(Golden(name + ".io.safetensors"));
        Tensor y;
        using (Tensor.NoGrad())
            y = unet.Forward(io["sample"], io["timestep"].ToArray()[0], io["encoder_hidden_states"],
                io["added_time_ids"]);
        AssertClose(io["sample_out"], y, 2e-4);
    }

    [Fact]
    public void Fp16WeightsStayInTheirFileAndAreWidenedOnlyWhileUsed()
    {
        long before = MappedWeights.CacheBytes;
        try
        {
            MappedWeights.CacheBytes = 64 << 10;
            var unet = ModelFamilies.Load<SvdUnet>(Golden("unet_tiny_fp16"));
            var io = SafeTensors.Load(Golden("unet_tiny_fp16.io.safetensors"));
            using (Tensor.NoGrad())
            {
                var y = unet.Forward(io["sample"], io["timestep"].ToArray()[0], io["encoder_hidden_states"],
                    io["added_time_ids"]);
                Assert.True(MappedWeights.HeldBytes <= (64 << 10) + unet.Parameters.Named.Max(p => p.Value.Numel) * 4L,
                    $"{MappedWeights.HeldBytes} bytes held");
                AssertClose(io["sample_out"], y, 2e-4);
            }
        }
        finally
        {
            MappedWeights.CacheBytes = before;
            MappedWeights.Clear();
        }
    }

    [Fact]
    public void AKeyTheModelDoesNotHaveIsNamedWithItsFile()
    {
        var dir = Directory.CreateTempSubdirectory("longshot-svd-").FullName;
        File.Copy(Golden("unet_tiny", "config.json"), Path.Combine(dir, "config.json"));
        var weights = SafeTensors.Load(Golden("unet_tiny", "diffusion_pytorch_model.safetensors"));
        weights["down_blocks.0.extra.weight"] = Tensor.Zeros(2);
        SafeTensors.Save(Path.Combine(dir, "diffusion_pytorch_model.safetensors"), weights);
        var e = Assert.ThrowsAny<LongshotException>(() => ModelFamilies.Load<SvdUnet>(dir));
        Assert.Contains("down_blocks.0.extra.weight", e.Message);
        Assert.Contains("diffusion_pytorch_model.safetensors", e.Message);
    }

    [Fact]
    public void AnIndexNamingAMissingShardIsNamed()
    {
        var dir = Directory.CreateTempSubdirectory("longshot-svd-").FullName;
        foreach (var f in Directory.GetFiles(Golden("unet_small_fp16")))
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        File.Delete(Path.Combine(dir, "diffusion_pytorch_model-00002-of-00003.fp16.safetensors"));
        var e = Assert.ThrowsAny<LongshotException>(() => ModelFamilies.Load<SvdUnet>(dir));
        Assert.Contains("diffusion_pytorch_model-00002-of-00003.fp16.safetensors", e.Message);
    }

    internal static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.ToArray();
        var a = actual.ToArray();
        double scale = e.Max(v => Math.Abs((double)v)), worst = 0;
        Assert.True(scale > 0.1, $"the reference output is degenerate (max {scale})");
        for (int i = 0; i < e.Length; i++) worst = Math.Max(worst, Math.Abs(e[i] - (double)a[i]));
        Assert.True(worst / scale <= tolerance, $"relative error {worst / scale:E2} (max |diff| {worst:E2}, " +
            $"max |expected| {scale:F3})");
    }
}
