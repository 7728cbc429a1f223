using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Tests;
using Longshot.Diffusion.Training;
using Longshot.Tensors.Devices;
using Xunit;

namespace Longshot.Tensors.Cuda.Tests;

/// <summary>Diffusion training on a device (the CPU accelerator registered as cuda:10) against the CPU: the same run
/// gives the same weights, and its checkpoint resumes on the CPU.</summary>
public sealed class DeviceTrainingTests : IDisposable
{
    private static readonly Device Gpu = Device.Cuda(10);
    private readonly string _dir = Directory.CreateTempSubdirectory("longshot-device-train-").FullName;
    private readonly GpuDevice _accelerator = GpuDevice.OpenCpuAccelerator();

    public DeviceTrainingTests() => CudaBackend.Register(_accelerator, 10);

    public void Dispose()
    {
        DeviceBackends.Unregister(Gpu);
        _accelerator.Dispose();
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
        var cpu = MtdTrainer.Train(TinyTraining.Options(_dir, "local", "cpu", 3));
        // Two steps on the device (a checkpoint after each), then the third on the CPU from the device's checkpoint:
        // weights, AdamW moments and EMA came back from the device intact.
        var dev = TinyTraining.Options(_dir, "local", "dev", 2) with { Device = Gpu };
        var twoSteps = MtdTrainer.Train(dev);
        var resumed = MtdTrainer.Train(dev with { Steps = 3, Device = Device.Cpu });
        // AdamW's first steps move each weight by about the learning rate (4e-4) whatever the gradient's size, so
        // a sign flip of a near-zero gradient shows as 8e-4; anything wrong in a rule is far larger.
        Close(cpu, resumed, 2.5e-3f);
        Assert.NotEqual(cpu.Parameters.Named.First().Value.ToArray(), twoSteps.Parameters.Named.First().Value.ToArray());
    }
}
