using Longshot.Tensors.Autograd;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors;

/// <summary>
/// The elements a tensor and its views share. Normally a float32 array; inside a
/// <see cref="MixedPrecision.Bf16"/> scope, an activation kept for the backward pass may be packed to bfloat16 (half
/// the memory) and is widened again, exactly, the first time anything reads it.
/// </summary>
internal sealed class TensorBuffer
{
    private float[]? _data;
    private ushort[]? _packed;

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

    /// <summary>The float32 elements (widened first when packed).</summary>
    public float[] Data => _data ?? Unpack();

    public int Length => _data?.Length ?? _packed!.Length;

    public bool IsPacked => _data == null;

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

    private float[] Unpack()
    {
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
