using Longshot.Diffusion.Svd;
using Longshot.Tensors.Devices;
using Xunit;

namespace Longshot.Tensors.Cuda.Tests;

/// <summary>Stable Video Diffusion's UNet (a small random config, 2 frames of 4 x 4 latents) on the CPU accelerator
/// against the same call on the CPU: what `bench -- published-unet --device cuda` runs at real size on a GPU.</summary>
public sealed class SvdDeviceTests() : RegisteredAccelerator(12)
{
    [Fact]
    public void AnSvdUnetCallOnTheDeviceEqualsTheCpus()
    {
        var unet = SvdUnet.Random(new SvdUnetConfig
        {
            BlockOutChannels = new[] { 32, 64 }, AdditionTimeEmbedDim = 8, CrossAttentionDim = new[] { 16 },
            DownBlockTypes = new[] { "CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal" },
            UpBlockTypes = new[] { "UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal" },
            LayersPerBlock = new[] { 1 }, NumAttentionHeads = new[] { 2, 4 }, NumFrames = 3,
            ProjectionClassEmbeddingsInputDim = 24,
        }, 1);
        var rng = new Rng(2);
        var sample = Tensor.Randn(rng, 1, 2, 8, 4, 4);
        var context = Tensor.Randn(rng, 1, 1, 16);
        var ids = Tensor.FromArray(new[] { 6f, 127f, 0.02f }, 1, 3);
        using var _ = Tensor.NoGrad();
        var cpu = unet.Forward(sample, 0.7f, context, ids).ToArray();
        try
        {
            unet.Parameters.ToDevice(Gpu);
            var y = unet.Forward(sample.ToDevice(Gpu), 0.7f, context.ToDevice(Gpu), ids.ToDevice(Gpu));
            Assert.Equal(Gpu, y.Device);
            Expect.Close(cpu, y.ToArray(), 1e-4f, "SVD UNet");
        }
        finally
        {
            unet.Parameters.ToDevice(Device.Cpu);
        }
    }
}
