using System.Runtime.Intrinsics;
using Longshot.Tensors.IO;

namespace Longshot.Tensors.Kernels;

/// <summary>
/// bfloat16 (the top 16 bits of a float32) to and from float32, vectorised; <see cref="HalfConvert"/> is the scalar
/// reference (round to nearest even; NaN stays NaN).
/// </summary>
public static unsafe class Bf16
{
    /// <summary>Widens bfloat16 values to float32 (exact).</summary>
    public static void ToFloat(ushort* src, float* dst, long n)
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 32 <= n; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(src + i));
                Vector512.Store(Vector512.ShiftLeft(lo, 16).AsSingle(), dst + i);
                Vector512.Store(Vector512.ShiftLeft(hi, 16).AsSingle(), dst + i + 16);
            }
        for (; i < n; i++) dst[i] = HalfConvert.FromBFloat16(src[i]);
    }

    /// <summary>Rounds float32 values to bfloat16 (nearest, ties to even).</summary>
    public static void FromFloat(float* src, ushort* dst, long n)
    {
        for (long i = 0; i < n; i++) dst[i] = HalfConvert.ToBFloat16(src[i]);
    }

    /// <summary>The array forms.</summary>
    public static ushort[] FromFloat(ReadOnlySpan<float> src)
    {
        var dst = new ushort[src.Length];
        fixed (float* s = src) fixed (ushort* d = dst) FromFloat(s, d, src.Length);
        return dst;
    }
}
