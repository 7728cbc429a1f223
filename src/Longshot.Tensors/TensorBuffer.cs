using Longshot.Tensors.Autograd;
using Longshot.Tensors.Devices;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors;

/// <summary>
/// The elements a tensor and its views share. Normally a float32 array; inside a
/// <see cref="MixedPrecision.Bf16"/> scope, an activation kept for the backward pass may be packed to bfloat16 (half
/// the memory) and is widened again, exactly, the first time anything reads it. A weight mapped from a file
/// (<see cref="IO.MappedWeights"/>) is widened from the file when read, and its copy may be dropped again. On an
/// accelerator, the elements are the device's (<see cref="DeviceMemory"/>) and reading them as a host array is an
/// error.
/// </summary>
internal sealed class TensorBuffer
{
    private float[]? _data;
    private ushort[]? _packed;
    private DeviceMemory? _device;
    private readonly IO.MappedElements? _mapped;

    /// <summary>The bfloat16 scope this buffer was allocated in (0: none); only such buffers are ever packed, so
    /// parameters and everything made outside the scope stay float32.</summary>
    public readonly int Scope;

    /// <summary>An op's output recorded in the scope's graph (only such buffers are rounded or packed).</summary>
    public bool Activation;

    /// <summary>Every element is a bfloat16 value already (rounded in place, or widened from packed).</summary>
    private bool _rounded;

    public TensorBuffer(float[] data)
    {
        _data = data;
        Scope = MixedPrecision.CurrentScope;
    }

    /// <summary>Elements held by an accelerator.</summary>
    public TensorBuffer(DeviceMemory memory) => _device = memory;

    /// <summary>Elements read from a mapped file in their stored type.</summary>
    public TensorBuffer(IO.MappedElements mapped) => _mapped = mapped;

    /// <summary>Whether the elements come from a mapped file (read-only).</summary>
    public bool IsMapped => _mapped != null;

    /// <summary>The mapped elements, or null.</summary>
    public IO.MappedElements? Mapped => _mapped;

    /// <summary>Whether float32 elements are at hand now (always, unless mapped and not widened).</summary>
    public bool HasWidened => _data != null;

    /// <summary>The float32 elements (widened first when packed).</summary>
    public float[] Data => _data ?? Unpack();

    public int Length => _data?.Length ?? _packed?.Length ?? _mapped?.Count ?? (int)_device!.Length;

    public bool IsPacked => _packed != null;

    /// <summary>Where the elements live.</summary>
    public Device Device => _device?.Device ?? Device.Cpu;

    /// <summary>The accelerator's memory, or null for host elements.</summary>
    public DeviceMemory? Memory => _device;

    /// <summary>
    /// Moves the elements to <paramref name="device"/> in place, so that every tensor sharing this buffer (a
    /// parameter and its views) follows: how a model's weights move to a device.
    /// </summary>
    public void MoveTo(Device device)
    {
        lock (this)
        {
            if (device == Device) return;
            var host = _device == null ? Data : CopyToHost();
            if (device == Device.Cpu)
            {
                _device!.Dispose();
                _device = null;
                _data = host;
                return;
            }
            var memory = DeviceBackends.For(device).Allocate(host.Length);
            memory.CopyFromHost(0, host);
            _device?.Dispose();
            _device = memory;
            _data = null;
            _packed = null;
        }
    }

    private float[] CopyToHost()
    {
        var host = GC.AllocateUninitializedArray<float>((int)_device!.Length);
        _device.CopyToHost(0, host);
        return host;
    }

    /// <summary>Rounds the elements to bfloat16 in place (they stay float32 until packed).</summary>
    public unsafe void Round()
    {
        lock (this)
        {
            if (_rounded || _data == null) return;
            fixed (float* p = _data) Bf16.Round(p, _data.Length);
            _rounded = true;
        }
    }

    /// <summary>Rounds the elements to bfloat16 and frees the float32 array.</summary>
    public void Pack()
    {
        lock (this)
        {
            if (_data == null) return;
            _packed = Bf16.FromFloat(_data);
            _data = null;
        }
    }

    /// <summary>Forgets the widened copy of a mapped buffer (readers holding the array keep it).</summary>
    public void DropWidened()
    {
        if (_mapped != null && _device == null) _data = null;
    }

    private float[] Widen()
    {
        float[] d;
        lock (this)
        {
            if (_data != null) return _data;
            d = GC.AllocateUninitializedArray<float>(_mapped!.Count);
            _mapped.Widen(d);
            _data = d;
        }
        IO.MappedWeights.Hold(this, (long)d.Length * sizeof(float));
        return d;
    }

    private float[] Unpack()
    {
        if (_device != null)
            throw new LongshotException($"a tensor on {_device.Device} was read as host memory: this operation runs " +
                "on the CPU only; move its inputs with ToDevice(Device.Cpu) first.");
        if (_mapped != null) return Widen();
        float[] d;
        lock (this)
        {
            if (_data != null) return _data;
            d = GC.AllocateUninitializedArray<float>(_packed!.Length);
            Bf16.ToFloat(_packed, d);
            _data = d;
            _packed = null;
            _rounded = true;
        }
        MixedPrecision.Used(this);
        return d;
    }
}
