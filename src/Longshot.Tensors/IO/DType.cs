namespace Longshot.Tensors.IO;

/// <summary>Element types for stored weights. Computation is always float32.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float.</summary>
    F32,
    /// <summary>16-bit IEEE half.</summary>
    F16,
    /// <summary>bfloat16: the top 16 bits of a float32.</summary>
    BF16,
    /// <summary>64-bit IEEE float (read only; converted to float32).</summary>
    F64,
}

/// <summary>Conversions between float32 and the 16-bit storage types.</summary>
public static class HalfConvert
{
    public static int Size(DType t) => t switch { DType.F32 => 4, DType.F64 => 8, _ => 2 };

    /// <summary>float32 to bfloat16 with round-to-nearest-even (NaN stays NaN).</summary>
    public static ushort ToBFloat16(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float FromBFloat16(ushort h) => BitConverter.UInt32BitsToSingle((uint)h << 16);

    public static ushort ToHalf(float f) => BitConverter.HalfToUInt16Bits((Half)f);

    public static float FromHalf(ushort h) => (float)BitConverter.UInt16BitsToHalf(h);

    /// <summary>Rounds every element through the given storage type (what saving and loading would do).</summary>
    public static unsafe void RoundTrip(Span<float> values, DType t)
    {
        if (t == DType.BF16)
            fixed (float* p = values) Kernels.Bf16.Round(p, values.Length);
        else if (t == DType.F16)
            for (int i = 0; i < values.Length; i++) values[i] = FromHalf(ToHalf(values[i]));
    }
}
