using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Tests;
using Longshot.Diffusion.Training;
using Longshot.Diffusion.Vae;
using Longshot.Tensors.Devices;
using Xunit;

namespace Longshot.Tensors.Cuda.Tests;

/// <summary>Diffusion training on a device (the CPU accelerator registered as cuda:10) against the CPU: the same run
/// gives the same weights, and its checkpoint resumes on the CPU. A few minutes: ILGPU's CPU accelerator runs every GPU
/// thread as .NET work.</summary>
public sealed class DeviceTrainingTests() : RegisteredAccelerator(10)
{
    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-device-train-").FullName;

    public override void Dispose()
    {
        base.Dispose();
        Directory.Delete(_dir, true);
    }

    private static void Close(MtdPipelineParts expected, MtdPipelineParts actual, float tol)
    {
        foreach (var (name, t) in expected.Parameters.Named)
        {
            float[] e = t.ToArray(), a = actual.Parameters[name].ToArray();
            Assert.Equal(Device.Cpu, actual.Parameters[name].Device);
            for (int i = 0; i < e.Length; i++)
                Assert.True(MathF.Abs(e[i] - a[i]) <= tol, $"{name}[{i}]: {a[i]} vs {e[i]} on the CPU");
        }
    }

    [Fact]
    public void LocalTrainingOnTheDeviceFollowsTheCpuAndResumesThere()
    {
        var cpu = MtdTrainer.Train(TinyTraining.Options(_dir, "local", "cpu", 2, vaeBlocks: 3));
        // A step on the device (and its checkpoint), then the second on the CPU from the device's checkpoint: weights,
        // AdamW moments and EMA came back from the device intact.
        var dev = TinyTraining.Options(_dir, "local", "dev", 1, vaeBlocks: 3) with { Device = Gpu };
        var oneStep = MtdTrainer.Train(dev);
        var resumed = MtdTrainer.Train(dev with { Steps = 2, Device = Device.Cpu });
        // AdamW's first steps move each weight by about the learning rate (4e-4) whatever the gradient's size, so
        // a sign flip of a near-zero gradient shows as 8e-4; anything wrong in a rule is far larger.
        Close(cpu, resumed, 2.5e-3f);
        Assert.NotEqual(cpu.Parameters.Named.First().Value.ToArray(), oneStep.Parameters.Named.First().Value.ToArray());
    }

    [Fact]
    public void AVaeTrainingStepOnTheDeviceEqualsTheCpus()
    {
        // What `train vae` runs each step: encode, sample the posterior, decode, reconstruction + KL, AdamW; the
        // temporal layers on, 2 frames of 8 x 8, so the temporal convolutions' gradients are covered too.
        var x = Tensor.Randn(new Rng(4), 2, 3, 8, 8) * 0.5f;
        (AutoencoderKL Model, float Loss) Step(Device device)
        {
            var model = AutoencoderKL.Create(new AutoencoderKLConfig { BlockOutChannels = new[] { 32 },
                MidBlockAddAttention = false, Temporal = true, TemporalInit = "random" }, 5);
            model.Parameters.ToDevice(device);
            var opt = new Optim.AdamW(model.Parameters.Trainable, 1e-3f, weightDecay: 0f);
            var input = x.ToDevice(device);
            var dist = model.Encode(input, 2);
            var recon = model.Decode(dist.Sample(new Rng(6)), 2);
            var loss = Ops.MseLoss(recon, input) + dist.Kl() * 1e-3f;
            opt.Step(loss.Backward());
            model.Parameters.ToDevice(Device.Cpu);
            return (model, loss.Item());
        }
        var (cpu, cpuLoss) = Step(Device.Cpu);
        var (dev, devLoss) = Step(Gpu);
        Assert.Equal(cpuLoss, devLoss, 4);
        foreach (var (name, t) in cpu.Parameters.Named)
        {
            float[] e = t.ToArray(), a = dev.Parameters[name].ToArray();
            for (int i = 0; i < e.Length; i++)
                Assert.True(MathF.Abs(e[i] - a[i]) <= 2.5e-3f, $"{name}[{i}]: {a[i]} vs {e[i]} on the CPU");
        }
    }
}
