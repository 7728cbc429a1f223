using ILGPU;

namespace Longshot.Tensors.Cuda.Kernels;

/// <summary>The unary elementwise family, one kernel for all (the op is a kernel argument).</summary>
public enum UnaryOp { Neg, Exp, Log, Sqrt, Square, Abs, Relu, Sigmoid, Tanh, Silu, Gelu }

/// <summary>The binary elementwise family, with broadcasting.</summary>
public enum BinaryOp { Add, Sub, Mul, Div, Max, Min }

/// <summary>
/// Broadcast geometry of a binary op of up to 4 dimensions: the output's sizes and each input's element strides
/// (0 along a broadcast dimension). Shapes of fewer dimensions are padded in front with size 1.
/// </summary>
public struct Broadcast4
{
    public int D0, D1, D2, D3;
    public int A0, A1, A2, A3;
    public int B0, B1, B2, B3;
}

/// <summary>
/// A copy between two strided views of rank up to 8: sizes D0..D7 and the source's (S) and destination's (T) element
/// strides (shapes padded in front with size 1). A source stride of 0 repeats (broadcast) an element.
/// </summary>
public struct Copy8
{
    public int D0, D1, D2, D3, D4, D5, D6, D7;
    public int S0, S1, S2, S3, S4, S5, S6, S7;
    public int T0, T1, T2, T3, T4, T5, T6, T7;
}

/// <summary>AdamW's per-step constants (as <c>Longshot.Tensors.Optim.AdamW</c> computes them).</summary>
public struct AdamWStep
{
    public float Beta1, Beta2, Eps, StepSize, SqrtBiasCorrection2, Decay;
}

/// <summary>Elementwise kernels: one thread per output element.</summary>
internal static class ElementwiseKernels
{
    public static void Unary(Index1D i, ArrayView<float> x, ArrayView<float> y, int op) => y[i] = Apply(op, x[i]);

    /// <summary>The incoming gradient times d(op)/dx at x.</summary>
    public static void UnaryBackward(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, int op) =>
        dx[i] = dy[i] * Derivative(op, x[i]);

    public static void Binary(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, Broadcast4 g,
        int op)
    {
        int r = i, i3 = r % g.D3; r /= g.D3;
        int i2 = r % g.D2; r /= g.D2;
        int i1 = r % g.D1, i0 = r / g.D1;
        float x = a[i0 * g.A0 + i1 * g.A1 + i2 * g.A2 + i3 * g.A3];
        float z = b[i0 * g.B0 + i1 * g.B1 + i2 * g.B2 + i3 * g.B3];
        y[i] = op switch
        {
            (int)BinaryOp.Add => x + z,
            (int)BinaryOp.Sub => x - z,
            (int)BinaryOp.Mul => x * z,
            (int)BinaryOp.Div => x / z,
            (int)BinaryOp.Max => x > z ? x : z,
            _ => x < z ? x : z,
        };
    }

    /// <summary>Element i (row-major) of the source view to the same element of the destination view.</summary>
    public static void Copy(Index1D i, ArrayView<float> x, ArrayView<float> y, Copy8 g)
    {
        int r = i, k;
        int s = 0, t = 0;
        k = r % g.D7; r /= g.D7; s += k * g.S7; t += k * g.T7;
        k = r % g.D6; r /= g.D6; s += k * g.S6; t += k * g.T6;
        k = r % g.D5; r /= g.D5; s += k * g.S5; t += k * g.T5;
        k = r % g.D4; r /= g.D4; s += k * g.S4; t += k * g.T4;
        k = r % g.D3; r /= g.D3; s += k * g.S3; t += k * g.T3;
        k = r % g.D2; r /= g.D2; s += k * g.S2; t += k * g.T2;
        k = r % g.D1; r /= g.D1; s += k * g.S1; t += k * g.T1;
        s += r * g.S0; t += r * g.T0;
        y[t] = x[s];
    }

    /// <summary>y = value.</summary>
    public static void Fill(Index1D i, ArrayView<float> y, float value) => y[i] = value;

    /// <summary>y = x * a + b.</summary>
    public static void Affine(Index1D i, ArrayView<float> x, ArrayView<float> y, float a, float b) =>
        y[i] = x[i] * a + b;

    /// <summary>One AdamW update of parameter i (decoupled weight decay, bias-corrected moments).</summary>
    public static void AdamW(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m,
        ArrayView<float> v, AdamWStep s)
    {
        float gi = g[i];
        float mi = s.Beta1 * m[i] + (1f - s.Beta1) * gi;
        float vi = s.Beta2 * v[i] + (1f - s.Beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * s.Decay - s.StepSize * mi / (MathF.Sqrt(vi) / s.SqrtBiasCorrection2 + s.Eps);
    }

    /// <summary>Rows of a [vocab, dim] table gathered by index: y[t, :] = table[ids[t], :].</summary>
    public static void Embedding(Index1D i, ArrayView<int> ids, ArrayView<float> table, ArrayView<float> y, int dim) =>
        y[i] = table[ids[i / dim] * dim + i % dim];

    /// <summary>The embedding's backward: each gradient element added to its table row's element (atomically, since
    /// an id may repeat): dTable[ids[t], c] += dy[t, c].</summary>
    public static void EmbeddingBackward(Index1D i, ArrayView<int> ids, ArrayView<float> dy, ArrayView<float> dTable,
        int dim) =>
        Atomic.Add(ref dTable[ids[i / dim] * dim + i % dim], dy[i]);

    internal static float Apply(int op, float v) => op switch
    {
        (int)UnaryOp.Neg => -v,
        (int)UnaryOp.Exp => MathF.Exp(v),
        (int)UnaryOp.Log => MathF.Log(v),
        (int)UnaryOp.Sqrt => MathF.Sqrt(v),
        (int)UnaryOp.Square => v * v,
        (int)UnaryOp.Abs => MathF.Abs(v),
        (int)UnaryOp.Relu => v > 0 ? v : 0f,
        (int)UnaryOp.Sigmoid => 1f / (1f + MathF.Exp(-v)),
        (int)UnaryOp.Tanh => MathF.Tanh(v),
        (int)UnaryOp.Silu => v / (1f + MathF.Exp(-v)),
        _ => 0.5f * v * (1f + Erf(v * 0.70710678f)),
    };

    internal static float Derivative(int op, float v)
    {
        switch (op)
        {
            case (int)UnaryOp.Neg: return -1f;
            case (int)UnaryOp.Exp: return MathF.Exp(v);
            case (int)UnaryOp.Log: return 1f / v;
            case (int)UnaryOp.Sqrt: return 0.5f / MathF.Sqrt(v);
            case (int)UnaryOp.Square: return 2f * v;
            case (int)UnaryOp.Abs: return v > 0 ? 1f : v < 0 ? -1f : 0f;
            case (int)UnaryOp.Relu: return v > 0 ? 1f : 0f;
            case (int)UnaryOp.Sigmoid:
            {
                float s = 1f / (1f + MathF.Exp(-v));
                return s * (1f - s);
            }
            case (int)UnaryOp.Tanh:
            {
                float t = MathF.Tanh(v);
                return 1f - t * t;
            }
            case (int)UnaryOp.Silu:
            {
                float s = 1f / (1f + MathF.Exp(-v));
                return s * (1f + v * (1f - s));
            }
            default:
                return 0.5f * (1f + Erf(v * 0.70710678f)) + v * 0.39894228f * MathF.Exp(-0.5f * v * v);
        }
    }

    /// <summary>erf to within 1.5e-7 (Abramowitz and Stegun 7.1.26), odd-symmetric.</summary>
    internal static float Erf(float x)
    {
        float ax = MathF.Abs(x), t = 1f / (1f + 0.3275911f * ax);
        float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f
            + t * 1.061405429f))));
        float e = 1f - poly * MathF.Exp(-ax * ax);
        return x < 0 ? -e : e;
    }
}
