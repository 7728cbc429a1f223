using Longshot.Diffusion.Unet;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>
/// A frozen output of the Mask 3D-UNet (Golden/mask_unet_small): a small config with every weight random (injections
/// and temporal layers included, which start at zero or identity), fixed inputs, and the output they gave. Any change
/// to the model's forward pass shows up here; refactors must leave it within float rounding. To refreeze after an
/// intended change: LONGSHOT_WRITE_GOLDEN=1 dotnet test --filter MaskUnetGolden (and say why in the commit).
/// </summary>
public class MaskUnetGoldenTests
{
    private static readonly MaskUnetConfig Small = new()
    {
        BlockOutChannels = new[] { 32, 32 }, AttentionLevels = new[] { false, true }, CrossAttentionDim = 16, Heads = 4,
    };

    private static string SourcePath =>
        Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..",
        "tests", "Longshot.Diffusion.Tests", "Golden", "mask_unet_small", "golden.safetensors"));

    private static string BuiltPath =>
        Path.Combine(AppContext.BaseDirectory, "Golden", "mask_unet_small", "golden.safetensors");

    [Fact]
    public void MaskUnetGoldenOutputIsUnchanged()
    {
        if (Environment.GetEnvironmentVariable("LONGSHOT_WRITE_GOLDEN") == "1") Freeze(SourcePath);
        var golden = SafeTensors.Load(BuiltPath);
        var unet = MaskUnet3D.Create(Small);
        var weights = golden.Where(kv => !kv.Key.StartsWith("__")).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.True(unet.Parameters.Load(weights, strict: true).IsExact);
        Tensor y;
        using (Tensor.NoGrad()) y = unet.Forward(Input(golden));
        var expected = golden["__out"].ToArray();
        var actual = y.ToArray();
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Sqrt(expected.Average(v => (double)v * v));
        Assert.True(scale > 0.1, $"the frozen output is degenerate (rms {scale})");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * (scale + Math.Abs(expected[i])),
                $"output[{i}]: {actual[i]} vs frozen {expected[i]}");
    }

    /// <summary>Two 4-frame videos: the first and last frames given, timesteps 100 and 700, frames 15 apart.</summary>
    private static MtdInput Input(IReadOnlyDictionary<string, Tensor> g) => new(g["__sample"], new[] { 100, 700 },
        g["__prompts"], g["__condition"], g["__mask"], new[] { 0, 15, 30, 45 });

    private static void Freeze(string path)
    {
        var rng = new Rng(11);
        var unet = MaskUnet3D.Create(Small, 5);
        using (Tensor.NoGrad())
            foreach (var (_, p) in unet.Parameters.Named)
                p.CopyFrom(Tensor.Randn(rng, p.Shape) * (1f / MathF.Sqrt(Math.Max(1, p.Numel / p.Shape[0]))));
        var mask = Tensor.Zeros(8, 1, 8, 8);
        foreach (int f in new[] { 0, 3, 4, 7 }) mask.Narrow(0, f, 1).CopyFrom(Tensor.Ones(1, 1, 8, 8));
        var all = unet.Parameters.StateDict();
        all["__sample"] = Tensor.Randn(rng, 8, 4, 8, 8);
        all["__prompts"] = Tensor.Randn(rng, 8, 5, 16);
        all["__condition"] = Tensor.Randn(rng, 8, 4, 8, 8) * mask;
        all["__mask"] = mask;
        using (Tensor.NoGrad()) all["__out"] = unet.Forward(Input(all));
        SafeTensors.Save(path, all);
        Directory.CreateDirectory(Path.GetDirectoryName(BuiltPath)!);
        File.Copy(path, BuiltPath, overwrite: true);
    }
}
