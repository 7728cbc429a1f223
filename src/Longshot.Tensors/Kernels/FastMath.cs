using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Longshot.Tensors.Kernels;

/// <summary>
/// Vectorised exp and the functions built on it (sigmoid, SiLU, tanh, softmax rows). exp uses Cephes' range
/// reduction (x = n ln2 + r) and a degree-6 polynomial: about 1 ulp, and 0 for inputs below -88 (incl. -inf).
/// Attention and softmax spend most of their time here, so it is vectorised rather than a loop over MathF.Exp.
/// </summary>
internal static class FastMath
{
    private const float Log2E = 1.44269504088896341f, Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
    private const float P0 = 1.9875691500E-4f, P1 = 1.3981999507E-3f, P2 = 8.3334519073E-3f, P3 = 4.1665795894E-2f,
        P4 = 1.6666665459E-1f, P5 = 5.0000001201E-1f;
    private const float Hi = 88.3762626647949f, Lo = -88.3762626647949f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(Lo)), Vector512.Create(Hi));
        var n = Vector512.Round(x * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
        var pow2 = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        return p * pow2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(Lo)), Vector256.Create(Hi));
        var n = Vector256.Round(x * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<float>.One);
        var pow2 = Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        return p * pow2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x) => x < Lo ? 0f : MathF.Exp(x);

    private enum Fn { Exp, Sigmoid, Silu, Tanh }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Apply(Fn f, Vector512<float> x) => f switch
    {
        Fn.Exp => Exp(x),
        Fn.Sigmoid => Vector512<float>.One / (Vector512<float>.One + Exp(-x)),
        Fn.Silu => x / (Vector512<float>.One + Exp(-x)),
        _ => Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(TanhSeriesBelow)),
            TanhSeries(x),
                Vector512.Create(2f) / (Vector512<float>.One + Exp(x * Vector512.Create(-2f))) - Vector512<float>.One),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Apply(Fn f, Vector256<float> x) => f switch
    {
        Fn.Exp => Exp(x),
        Fn.Sigmoid => Vector256<float>.One / (Vector256<float>.One + Exp(-x)),
        Fn.Silu => x / (Vector256<float>.One + Exp(-x)),
        _ => Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create(TanhSeriesBelow)),
            TanhSeries(x),
                Vector256.Create(2f) / (Vector256<float>.One + Exp(x * Vector256.Create(-2f))) - Vector256<float>.One),
    };

    // Near 0, 2 / (1 + e^-2x) - 1 cancels (2% relative error at |x| ~ 0.01): below 1/4 tanh is its odd Taylor series
    // to x^9, whose next term is below 2e-8 of tanh x there.
    private const float TanhSeriesBelow = 0.25f, T3 = -1f / 3, T5 = 2f / 15, T7 = -17f / 315, T9 = 62f / 2835;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> TanhSeries(Vector512<float> x)
    {
        var x2 = x * x;
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(T9), x2, Vector512.Create(T7));
        p = Vector512.FusedMultiplyAdd(p, x2, Vector512.Create(T5));
        p = Vector512.FusedMultiplyAdd(p, x2, Vector512.Create(T3));
        return Vector512.FusedMultiplyAdd(p * x2, x, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> TanhSeries(Vector256<float> x)
    {
        var x2 = x * x;
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(T9), x2, Vector256.Create(T7));
        p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(T5));
        p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(T3));
        return Vector256.FusedMultiplyAdd(p * x2, x, x);
    }

    private static float Apply(Fn f, float x) => f switch
    {
        Fn.Exp => Exp(x),
        Fn.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        Fn.Silu => x / (1f + MathF.Exp(-x)),
        _ => MathF.Tanh(x),
    };

    private static void Map(Fn f, ReadOnlySpan<float> x, Span<float> d)
    {
        if (d.Length < x.Length) throw new ArgumentException("destination too short");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= x.Length - 16; i += 16) Apply(f, Vector512.Create(x.Slice(i, 16))).CopyTo(d.Slice(i, 16));
        else if (Vector256.IsHardwareAccelerated)
            for (; i <= x.Length - 8; i += 8) Apply(f, Vector256.Create(x.Slice(i, 8))).CopyTo(d.Slice(i, 8));
        for (; i < x.Length; i++) d[i] = Apply(f, x[i]);
    }

    /// <summary>d = e^x (x and d may alias).</summary>
    public static void Exp(ReadOnlySpan<float> x, Span<float> d) => Map(Fn.Exp, x, d);

    /// <summary>d = 1 / (1 + e^-x).</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> d) => Map(Fn.Sigmoid, x, d);

    /// <summary>d = x * sigmoid(x).</summary>
    public static void Silu(ReadOnlySpan<float> x, Span<float> d) => Map(Fn.Silu, x, d);

    /// <summary>d = tanh(x).</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> d) => Map(Fn.Tanh, x, d);

    /// <summary>d = silu(x * a + b): group norm's folded scale and shift fused with the SiLU that follows.</summary>
    public static void AffineSilu(ReadOnlySpan<float> x, float a, float b, Span<float> d)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(a); var vb = Vector512.Create(b);
            for (; i <= x.Length - 16; i += 16)
            {
                var z = Vector512.FusedMultiplyAdd(Vector512.Create(x.Slice(i, 16)), va, vb);
                (z / (Vector512<float>.One + Exp(-z))).CopyTo(d.Slice(i, 16));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a); var vb = Vector256.Create(b);
            for (; i <= x.Length - 8; i += 8)
            {
                var z = Vector256.FusedMultiplyAdd(Vector256.Create(x.Slice(i, 8)), va, vb);
                (z / (Vector256<float>.One + Exp(-z))).CopyTo(d.Slice(i, 8));
            }
        }
        for (; i < x.Length; i++) { float z = x[i] * a + b; d[i] = z / (1f + MathF.Exp(-z)); }
    }

    // erf(z) for z >= 0 by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), sign restored by the caller.
    private const float ErfP = 0.3275911f, ErfA1 = 0.254829592f, ErfA2 = -0.284496736f, ErfA3 = 1.421413741f,
        ErfA4 = -1.453152027f, ErfA5 = 1.061405429f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ErfAbs(Vector512<float> z)
    {
        var t = Vector512<float>.One / Vector512.FusedMultiplyAdd(Vector512.Create(ErfP), z, Vector512<float>.One);
        var poly = Vector512.FusedMultiplyAdd(Vector512.Create(ErfA5), t, Vector512.Create(ErfA4));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(ErfA3));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(ErfA2));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(ErfA1));
        return Vector512<float>.One - poly * t * Exp(-(z * z));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ErfAbs(Vector256<float> z)
    {
        var t = Vector256<float>.One / Vector256.FusedMultiplyAdd(Vector256.Create(ErfP), z, Vector256<float>.One);
        var poly = Vector256.FusedMultiplyAdd(Vector256.Create(ErfA5), t, Vector256.Create(ErfA4));
        poly = Vector256.FusedMultiplyAdd(poly, t, Vector256.Create(ErfA3));
        poly = Vector256.FusedMultiplyAdd(poly, t, Vector256.Create(ErfA2));
        poly = Vector256.FusedMultiplyAdd(poly, t, Vector256.Create(ErfA1));
        return Vector256<float>.One - poly * t * Exp(-(z * z));
    }

    private const float InvSqrt2 = 0.70710678118654752f, InvSqrt2Pi = 0.3989422804014327f;

    /// <summary>Exact-form GELU, x * Phi(x) with Phi from a vectorised erf (PyTorch's default GELU to ~1e-7).</summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> d)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= x.Length - 16; i += 16)
            {
                var v = Vector512.Create(x.Slice(i, 16));
                var e = ErfAbs(Vector512.Abs(v) * Vector512.Create(InvSqrt2));
                var erf = Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), -e, e);
                (Vector512.Create(0.5f) * v * (Vector512<float>.One + erf)).CopyTo(d.Slice(i, 16));
            }
        else if (Vector256.IsHardwareAccelerated)
            for (; i <= x.Length - 8; i += 8)
            {
                var v = Vector256.Create(x.Slice(i, 8));
                var e = ErfAbs(Vector256.Abs(v) * Vector256.Create(InvSqrt2));
                var erf = Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), -e, e);
                (Vector256.Create(0.5f) * v * (Vector256<float>.One + erf)).CopyTo(d.Slice(i, 8));
            }
        for (; i < x.Length; i++) d[i] = 0.5f * x[i] * (1f + Elementwise.Erf(x[i] * InvSqrt2));
    }

    /// <summary>d = g * gelu'(x) = g * (Phi(x) + x * phi(x)); x, g and d may alias.</summary>
    public static void GeluGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> d)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= x.Length - 16; i += 16)
            {
                var v = Vector512.Create(x.Slice(i, 16));
                var e = ErfAbs(Vector512.Abs(v) * Vector512.Create(InvSqrt2));
                var erf = Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), -e, e);
                var cdf = Vector512.Create(0.5f) * (Vector512<float>.One + erf);
                var pdf = Vector512.Create(InvSqrt2Pi) * Exp(Vector512.Create(-0.5f) * v * v);
                (Vector512.Create(g.Slice(i, 16)) * Vector512.FusedMultiplyAdd(v, pdf, cdf)).CopyTo(d.Slice(i, 16));
            }
        else if (Vector256.IsHardwareAccelerated)
            for (; i <= x.Length - 8; i += 8)
            {
                var v = Vector256.Create(x.Slice(i, 8));
                var e = ErfAbs(Vector256.Abs(v) * Vector256.Create(InvSqrt2));
                var erf = Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), -e, e);
                var cdf = Vector256.Create(0.5f) * (Vector256<float>.One + erf);
                var pdf = Vector256.Create(InvSqrt2Pi) * Exp(Vector256.Create(-0.5f) * v * v);
                (Vector256.Create(g.Slice(i, 8)) * Vector256.FusedMultiplyAdd(v, pdf, cdf)).CopyTo(d.Slice(i, 8));
            }
        for (; i < x.Length; i++)
        {
            float v = x[i], cdf = 0.5f * (1f + Elementwise.Erf(v * InvSqrt2));
            d[i] = g[i] * (cdf + v * InvSqrt2Pi * MathF.Exp(-0.5f * v * v));
        }
    }

    /// <summary>d = g * silu'(x) = g * s * (1 + x * (1 - s)), s = sigmoid(x); x, g and d may alias.</summary>
    public static void SiluGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> d)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= x.Length - 16; i += 16)
            {
                var v = Vector512.Create(x.Slice(i, 16));
                var sg = Vector512<float>.One / (Vector512<float>.One + Exp(-v));
                (Vector512.Create(g.Slice(i, 16)) * sg * (Vector512<float>.One + v * (Vector512<float>.One - sg)))
                    .CopyTo(d.Slice(i, 16));
            }
        else if (Vector256.IsHardwareAccelerated)
            for (; i <= x.Length - 8; i += 8)
            {
                var v = Vector256.Create(x.Slice(i, 8));
                var sg = Vector256<float>.One / (Vector256<float>.One + Exp(-v));
                (Vector256.Create(g.Slice(i, 8)) * sg * (Vector256<float>.One + v * (Vector256<float>.One - sg)))
                    .CopyTo(d.Slice(i, 8));
            }
        for (; i < x.Length; i++)
        {
            float sg = 1f / (1f + MathF.Exp(-x[i]));
            d[i] = g[i] * sg * (1f + x[i] * (1f - sg));
        }
    }

    /// <summary>d = e^(x - shift), returning the sum of d (x and d may alias).</summary>
    public static float ExpShiftSum(ReadOnlySpan<float> x, float shift, Span<float> d)
    {
        int i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var acc = Vector512<float>.Zero; var s = Vector512.Create(shift);
            for (; i <= x.Length - 16; i += 16)
            {
                var e = Exp(Vector512.Create(x.Slice(i, 16)) - s);
                e.CopyTo(d.Slice(i, 16));
                acc += e;
            }
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var acc = Vector256<float>.Zero; var s = Vector256.Create(shift);
            for (; i <= x.Length - 8; i += 8)
            {
                var e = Exp(Vector256.Create(x.Slice(i, 8)) - s);
                e.CopyTo(d.Slice(i, 8));
                acc += e;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < x.Length; i++) { d[i] = Exp(x[i] - shift); sum += d[i]; }
        return sum;
    }

    /// <summary>Softmax of one row (x and d may alias).</summary>
    public static void Softmax(ReadOnlySpan<float> x, Span<float> d)
    {
        if (x.Length == 0) return;
        float m = TensorPrimitives.Max(x);
        float s = ExpShiftSum(x, m, d);
        TensorPrimitives.Multiply(d[..x.Length], 1f / s, d[..x.Length]);
    }
}
