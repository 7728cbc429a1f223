using ILGPU;
using ILGPU.Runtime;
using Longshot.Tensors.Devices;
using Device = Longshot.Tensors.Devices.Device;

namespace Longshot.Tensors.Cuda;

/// <summary>Device memory of the CUDA backend: one ILGPU buffer.</summary>
public sealed class CudaMemory : DeviceMemory
{
    private readonly GpuDevice _gpu;

    /// <summary>The buffer the kernels read and write.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Buffer { get; }

    public override Device Device { get; }
    public override long Length => Buffer.Length;

    internal CudaMemory(GpuDevice gpu, Device device, long length)
    {
        _gpu = gpu;
        Device = device;
        Buffer = gpu.Accelerator.Allocate1D<float>(Math.Max(1, length));
    }

    public override void CopyToHost(long offset, Span<float> destination)
    {
        _gpu.Accelerator.Synchronize();
        ArrayView<float> all = Buffer.View;
        all.SubView(offset, destination.Length).CopyToCPU(destination);
    }

    public override void CopyFromHost(long offset, ReadOnlySpan<float> source)
    {
        ArrayView<float> all = Buffer.View;
        all.SubView(offset, source.Length).CopyFromCPU(source);
    }

    public override void Dispose() => Buffer.Dispose();
}

/// <summary>
/// The engine's CUDA device: memory on an ILGPU accelerator (a GPU through the CUDA driver, or the CPU accelerator
/// that runs the same kernels in tests), registered with <see cref="DeviceBackends"/> for a device cuda:N.
/// </summary>
public sealed class CudaBackend : IDeviceBackend
{
    /// <summary>The accelerator and its kernels.</summary>
    public GpuDevice Gpu { get; }

    public Device Device { get; }
    public string Name => Gpu.Name;

    private CudaBackend(GpuDevice gpu, Device device)
    {
        Gpu = gpu;
        Device = device;
    }

    /// <summary>Opens CUDA device <paramref name="ordinal"/> and registers it as cuda:N.</summary>
    public static CudaBackend Register(int ordinal = 0) => Register(GpuDevice.OpenCuda(ordinal), ordinal);

    /// <summary>Registers <paramref name="gpu"/> (any accelerator) as device cuda:<paramref name="ordinal"/>.</summary>
    public static CudaBackend Register(GpuDevice gpu, int ordinal)
    {
        var backend = new CudaBackend(gpu, Device.Cuda(ordinal));
        DeviceBackends.Register(backend);
        return backend;
    }

    public DeviceMemory Allocate(long length) => new CudaMemory(Gpu, Device, length);
}
