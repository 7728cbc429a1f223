using Longshot.Diffusion.Svd;
using Longshot.Tensors.Devices;
using Xunit;

namespace Longshot.Tensors.Cuda.Tests;

/// <summary>Stable Video Diffusion's UNet (a small random config, 2 frames of 4 x 4 latents) on the CPU accelerator
/// registered as cuda:9 against the same call on the CPU: what `bench -- published-unet --device cuda` runs at real
/// size on a GPU.</summary>
public class SvdDeviceTests
{
    [Fact]
    public void AnSvdUnetCallOnTheDeviceEqualsTheCpus()
    {
        var config = new SvdUnetConfig
        {
            BlockOutChannels = new[] { 32, 64 }, AdditionTimeEmbedDim = 8, CrossAttentionDim = new[] { 16 },
            DownBlockTypes = new[] { "CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal" },
            UpBlockTypes = new[] { "UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal" },
            LayersPerBlock = new[] { 1 }, NumAttentionHeads = new[] { 2, 4 }, NumFrames = 3,
            ProjectionClassEmbeddingsInputDim = 24,
        };
        var unet = SvdUnet.Random(config, 1);
        var rng = new Rng(2);
        var io = new Dictionary<string, Tensor>
        {
            ["sample"] = Tensor.Randn(rng, 1, 2, 8, 4, 4), ["encoder_hidden_states"] = Tensor.Randn(rng, 1, 1, 16),
            ["added_time_ids"] = Tensor.FromArray(new[] { 6f, 127f, 0.02f }, 1, 3),
        };
        using var _ = Tensor.NoGrad();
        float t = 0.7f;
        var cpu = unet.Forward(io["sample"], t, io["encoder_hidden_states"], io["added_time_ids"]).ToArray();
        using var gpu = GpuDevice.OpenCpuAccelerator();
        CudaBackend.Register(gpu, 9);
        try
        {
            var d = Device.Cuda(9);
            unet.Parameters.ToDevice(d);
            var y = unet.Forward(io["sample"].ToDevice(d), t, io["encoder_hidden_states"].ToDevice(d),
                io["added_time_ids"].ToDevice(d));
            Assert.Equal(d, y.Device);
            var dev = y.ToArray();
            for (int i = 0; i < cpu.Length; i++)
                Assert.True(MathF.Abs(cpu[i] - dev[i]) <= 1e-4f * (1 + MathF.Abs(cpu[i])),
                    $"[{i}] {dev[i]} vs {cpu[i]}");
        }
        finally
        {
            unet.Parameters.ToDevice(Device.Cpu);
            DeviceBackends.Unregister(Device.Cuda(9));
        }
    }
}
