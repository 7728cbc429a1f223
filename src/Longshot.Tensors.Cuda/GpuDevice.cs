using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Longshot.Tensors.Cuda;

/// <summary>
/// One accelerator the CUDA backend runs on: an NVIDIA GPU through the CUDA driver, or ILGPU's CPU accelerator, which
/// runs the very same kernels as .NET threads (shared memory, barriers and all) so that every kernel is tested on a
/// machine without a GPU.
/// </summary>
public sealed class GpuDevice : IDisposable
{
    private readonly Context _context;
    private GpuKernels? _kernels;

    public Accelerator Accelerator { get; }

    /// <summary>cuBLAS on this device when its library is present (GEMM goes to it); null otherwise.</summary>
    public CuBlas? Blas { get; }

    /// <summary>True on a real CUDA device; false on the CPU accelerator.</summary>
    public bool IsCuda { get; }

    /// <summary>The device's name as the driver reports it.</summary>
    public string Name => Accelerator.Name;

    /// <summary>Every kernel of the backend, compiled for this device on first use.</summary>
    public GpuKernels Kernels => _kernels ??= new GpuKernels(Accelerator);

    private GpuDevice(Context context, Accelerator accelerator, bool cuda)
    {
        _context = context;
        Accelerator = accelerator;
        IsCuda = cuda;
        Blas = CuBlas.TryOpen(accelerator);
    }

    /// <summary>CUDA device <paramref name="ordinal"/>; a <see cref="LongshotException"/> when there is none.</summary>
    public static GpuDevice OpenCuda(int ordinal = 0)
    {
        var context = Context.Create(b => b.Cuda().EnableAlgorithms());
        int count = context.GetCudaDevices().Count;
        if (ordinal < 0 || ordinal >= count)
        {
            context.Dispose();
            throw new SettingException("Device", count == 0
                ? $"cuda:{ordinal}: no CUDA device found (an NVIDIA GPU and its driver are needed)."
                : $"cuda:{ordinal}: there are only {count} CUDA device(s) (cuda:0..cuda:{count - 1}).");
        }
        return new GpuDevice(context, context.CreateCudaAccelerator(ordinal), true);
    }

    /// <summary>ILGPU's CPU accelerator: the CUDA kernels run as .NET threads (for tests and for checking a
    /// kernel without a GPU).</summary>
    public static GpuDevice OpenCpuAccelerator()
    {
        // GPU-like geometry: warps of 32, groups of up to 256 threads (the default CPU device allows 16).
        var context = Context.Create(b => b.CPU(new CPUDevice(32, 8, 1)).EnableAlgorithms());
        return new GpuDevice(context, context.CreateCPUAccelerator(0), false);
    }

    /// <summary>Copies host values into a new device buffer.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Upload(float[] values) => Accelerator.Allocate1D(values);

    /// <summary>A new zero-filled device buffer.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Zeros(long length)
    {
        var b = Accelerator.Allocate1D<float>(Math.Max(1, length));
        b.MemSetToZero();
        return b;
    }

    /// <summary>Waits for the device and copies a buffer back.</summary>
    public float[] Download(MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        Accelerator.Synchronize();
        return buffer.GetAsArray1D();
    }

    public void Dispose()
    {
        Blas?.Dispose();
        Accelerator.Dispose();
        _context.Dispose();
    }
}
