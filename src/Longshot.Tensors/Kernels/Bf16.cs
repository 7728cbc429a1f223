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
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 32 <= n; i += 32)
            {
                var lo = RoundedBits(Vector512.Load((uint*)(src + i)));
                var hi = RoundedBits(Vector512.Load((uint*)(src + i + 16)));
                Vector512.Store(Vector512.Narrow(Vector512.ShiftRightLogical(lo, 16),
                    Vector512.ShiftRightLogical(hi, 16)), dst + i);
            }
        for (; i < n; i++) dst[i] = HalfConvert.ToBFloat16(src[i]);
    }

    /// <summary>Rounds float32 values to the nearest bfloat16 in place (they stay float32, low 16 bits zero).</summary>
    public static void Round(float* x, long n)
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
                Vector512.Store(RoundedBits(Vector512.Load((uint*)(x + i))) & Vector512.Create(0xFFFF0000u),
                    (uint*)(x + i));
        for (; i < n; i++) x[i] = HalfConvert.FromBFloat16(HalfConvert.ToBFloat16(x[i]));
    }

    /// <summary>float32 bits with bfloat16 rounding applied to the top half (ties to even; a NaN gets its quiet
    /// bit, as <see cref="HalfConvert.ToBFloat16"/>).</summary>
    private static Vector512<uint> RoundedBits(Vector512<uint> bits)
    {
        var rounded = bits + Vector512.Create(0x7FFFu) + (Vector512.ShiftRightLogical(bits, 16) & Vector512.Create(1u));
        var nan = Vector512.GreaterThan(bits & Vector512.Create(0x7FFFFFFFu), Vector512.Create(0x7F800000u));
        return Vector512.ConditionalSelect(nan, bits | Vector512.Create(0x00400000u), rounded);
    }

    /// <summary>Widens bfloat16 values into <paramref name="dst"/> (exact).</summary>
    public static void ToFloat(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("Bf16.ToFloat: destination too short.");
        fixed (ushort* s = src) fixed (float* d = dst) ToFloat(s, d, src.Length);
    }

    /// <summary>The array forms.</summary>
    public static ushort[] FromFloat(ReadOnlySpan<float> src)
    {
        var dst = new ushort[src.Length];
        fixed (float* s = src) fixed (ushort* d = dst) FromFloat(s, d, src.Length);
        return dst;
    }
}
