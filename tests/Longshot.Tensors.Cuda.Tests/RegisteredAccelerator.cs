using Longshot.Tensors.Devices;
using Xunit;

namespace Longshot.Tensors.Cuda.Tests;

/// <summary>Base of the tests that run the engine's ops on a device: ILGPU's CPU accelerator registered as cuda:N,
/// an ordinal of the test class's own so that classes running in parallel never share one, unregistered
/// after.</summary>
public abstract class RegisteredAccelerator : IDisposable
{
    private readonly GpuDevice _accelerator = GpuDevice.OpenCpuAccelerator();

    /// <summary>The device the accelerator stands for.</summary>
    protected Device Gpu { get; }

    protected RegisteredAccelerator(int ordinal)
    {
        Gpu = Device.Cuda(ordinal);
        CudaBackend.Register(_accelerator, ordinal);
    }

    public virtual void Dispose()
    {
        DeviceBackends.Unregister(Gpu);
        _accelerator.Dispose();
    }
}

/// <summary>Comparisons of device results with the CPU's.</summary>
internal static class Expect
{
    public static Tensor Rand(ulong seed, params int[] shape) => Tensor.Randn(new Rng(seed), shape);

    /// <summary>Every element within <paramref name="tol"/> x (1 + |expected|).</summary>
    public static void Close(float[] expected, float[] actual, float tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= tol * (1 + MathF.Abs(expected[i])),
                $"{what}[{i}]: {actual[i]} vs {expected[i]}");
    }
}
