namespace Longshot.Tensors.Devices;

/// <summary>
/// Elements of a tensor held by an accelerator: one allocation of float32 values that a backend's kernels read and
/// write. Freed when disposed, or by the finalizer of whatever the backend wraps.
/// </summary>
public abstract class DeviceMemory : IDisposable
{
    /// <summary>The device holding the elements.</summary>
    public abstract Device Device { get; }

    /// <summary>Number of float32 elements.</summary>
    public abstract long Length { get; }

    /// <summary>Copies elements [offset, offset + destination.Length) to the host (waiting for pending work).</summary>
    public abstract void CopyToHost(long offset, Span<float> destination);

    /// <summary>Copies host values into elements [offset, offset + source.Length).</summary>
    public abstract void CopyFromHost(long offset, ReadOnlySpan<float> source);

    public abstract void Dispose();
}

/// <summary>A device's memory management, registered by the assembly that implements the device.</summary>
public interface IDeviceBackend
{
    /// <summary>The device this backend drives.</summary>
    Device Device { get; }

    /// <summary>A device name for messages (the driver's).</summary>
    string Name { get; }

    /// <summary>Uninitialised device memory of <paramref name="length"/> elements.</summary>
    DeviceMemory Allocate(long length);
}

/// <summary>The backends of devices other than the CPU, registered at start-up (for CUDA:
/// <c>Longshot.Tensors.Cuda.CudaBackend.Register</c>).</summary>
public static class DeviceBackends
{
    private static readonly Dictionary<Device, IDeviceBackend> Registered = new();

    /// <summary>Makes <paramref name="backend"/> the one for its device (replacing an earlier one).</summary>
    public static void Register(IDeviceBackend backend)
    {
        lock (Registered) Registered[backend.Device] = backend;
    }

    /// <summary>Removes the backend of <paramref name="device"/> (tests, shutdown).</summary>
    public static void Unregister(Device device)
    {
        lock (Registered) Registered.Remove(device);
    }

    /// <summary>The backend of <paramref name="device"/>; a <see cref="LongshotException"/> when none is
    /// registered.</summary>
    public static IDeviceBackend For(Device device)
    {
        lock (Registered)
            return Registered.TryGetValue(device, out var b) ? b
                : throw new LongshotException($"device {device}: no backend is registered for it (CUDA needs the " +
                    "Longshot.Tensors.Cuda backend and a GPU).");
    }
}
