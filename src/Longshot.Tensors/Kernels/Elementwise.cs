using System.Runtime.Intrinsics;
using System.Numerics.Tensors;

namespace Longshot.Tensors.Kernels;

internal enum BinaryOp { Add, Sub, Mul, Div }

/// <summary>Vectorised elementwise kernels over contiguous spans and broadcast rows.</summary>
internal static class Elementwise
{
    private const int ParallelThreshold = 1 << 17;

    /// <summary>out = a (op) b with NumPy broadcasting; out is a new contiguous tensor.</summary>
    public static Tensor Binary(string opName, BinaryOp op, Tensor a, Tensor b)
    {
        var shape = ShapeUtil.Broadcast(opName, a.Shape, b.Shape);
        var outT = Tensor.Empty(shape);
        var o = outT.Storage;
        if (a.IsContiguous && b.IsContiguous && Tensor.SameShape(a, b))
        {
            int n = o.Length;
            Threads.For(n, ParallelThreshold, (s, e) =>
                SpanSpan(op, a.Storage.AsSpan(a.Offset + s, e - s), b.Storage.AsSpan(b.Offset + s, e - s),
                    o.AsSpan(s, e - s)));
            return outT;
        }
        var sa = BroadcastStrides(a, shape);
        var sb = BroadcastStrides(b, shape);
        var os = ShapeUtil.ContiguousStrides(shape);
        Coalesce3(shape, sa, sb, os, out var cs, out var ca, out var cb);
        int r = cs.Length, inner = cs[r - 1], ia = ca[r - 1], ib = cb[r - 1];
        int rows = o.Length / Math.Max(1, inner);
        Threads.For(rows, Math.Max(1, ParallelThreshold / Math.Max(1, inner)), (r0, r1) =>
        {
            for (int row = r0; row < r1; row++)
            {
                int pa = a.Offset, pb = b.Offset, rem = row;
                for (int d = r - 2; d >= 0; d--)
                {
                    int i = rem % cs[d]; rem /= cs[d];
                    pa += i * ca[d]; pb += i * cb[d];
                }
                var dst = o.AsSpan(row * inner, inner);
                if (ia == 1 && ib == 1) SpanSpan(op, a.Storage.AsSpan(pa, inner), b.Storage.AsSpan(pb, inner), dst);
                else if (ia == 1 && ib == 0) SpanScalar(op, a.Storage.AsSpan(pa, inner), b.Storage[pb], dst);
                else if (ia == 0 && ib == 1) ScalarSpan(op, a.Storage[pa], b.Storage.AsSpan(pb, inner), dst);
                else
                    for (int i = 0; i < inner; i++) dst[i] = Apply(op, a.Storage[pa + i * ia], b.Storage[pb + i * ib]);
            }
        });
        return outT;
    }

    private static float Apply(BinaryOp op, float x, float y) => op switch
    {
        BinaryOp.Add => x + y,
        BinaryOp.Sub => x - y,
        BinaryOp.Mul => x * y,
        _ => x / y,
    };

    private static void SpanSpan(BinaryOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(x, y, d); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(x, y, d); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(x, y, d); break;
            default: TensorPrimitives.Divide(x, y, d); break;
        }
    }

    private static void SpanScalar(BinaryOp op, ReadOnlySpan<float> x, float y, Span<float> d)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(x, y, d); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(x, y, d); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(x, y, d); break;
            default: TensorPrimitives.Divide(x, y, d); break;
        }
    }

    private static void ScalarSpan(BinaryOp op, float x, ReadOnlySpan<float> y, Span<float> d)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(y, x, d); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(x, y, d); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(y, x, d); break;
            default: TensorPrimitives.Divide(x, y, d); break;
        }
    }

    /// <summary>Strides of <paramref name="t"/> viewed with the broadcast shape (0 where broadcast).</summary>
    internal static int[] BroadcastStrides(Tensor t, int[] shape)
    {
        int r = shape.Length, off = r - t.Rank;
        var st = new int[r];
        for (int d = 0; d < t.Rank; d++) st[d + off] = t.Shape[d] == 1 ? 0 : t.Strides[d];
        return st;
    }

    /// <summary>Merges dimensions that are back to back in all three layouts; drops size-1 dims.</summary>
    internal static void Coalesce3(int[] shape, int[] a, int[] b, int[] o, out int[] cs, out int[] ca, out int[] cb)
    {
        var s = new List<int>(); var la = new List<int>(); var lb = new List<int>(); var lo = new List<int>();
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] == 1) continue;
            if (s.Count > 0 && la[^1] == a[d] * shape[d] && lb[^1] == b[d] * shape[d] && lo[^1] == o[d] * shape[d])
            {
                s[^1] *= shape[d]; la[^1] = a[d]; lb[^1] = b[d]; lo[^1] = o[d];
            }
            else { s.Add(shape[d]); la.Add(a[d]); lb.Add(b[d]); lo.Add(o[d]); }
        }
        if (s.Count == 0) { s.Add(1); la.Add(0); lb.Add(0); }
        cs = s.ToArray(); ca = la.ToArray(); cb = lb.ToArray();
    }

    /// <summary>Applies a span-to-span function to a contiguous copy of x, in parallel chunks.</summary>
    public static Tensor Map(Tensor x, SpanAction f)
    {
        var src = x.Contiguous();
        var outT = Tensor.Empty(x.Shape);
        var o = outT.Storage;
        Threads.For(o.Length, ParallelThreshold,
            (s, e) => f(src.Storage.AsSpan(src.Offset + s, e - s), o.AsSpan(s, e - s)));
        return outT;
    }

    /// <summary>out = f(x, y) over two same-shape tensors, in parallel chunks.</summary>
    public static Tensor Map2(Tensor x, Tensor y, Span2Action f)
    {
        var a = x.Contiguous(); var b = y.Contiguous();
        var outT = Tensor.Empty(x.Shape);
        var o = outT.Storage;
        Threads.For(o.Length, ParallelThreshold, (s, e) =>
            f(a.Storage.AsSpan(a.Offset + s, e - s), b.Storage.AsSpan(b.Offset + s, e - s), o.AsSpan(s, e - s)));
        return outT;
    }

    public delegate void SpanAction(ReadOnlySpan<float> x, Span<float> dst);
    public delegate void Span2Action(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dst);

    /// <summary>d = x * a + b with scalar a and b.</summary>
    public static void Affine(ReadOnlySpan<float> x, float a, float b, Span<float> d)
    {
        int i = 0;
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            var va = System.Runtime.Intrinsics.Vector256.Create(a);
            var vb = System.Runtime.Intrinsics.Vector256.Create(b);
            for (; i <= x.Length - 8; i += 8)
            {
                var vx = System.Runtime.Intrinsics.Vector256.Create((ReadOnlySpan<float>)x.Slice(i, 8));
                System.Runtime.Intrinsics.Vector256.FusedMultiplyAdd(vx, va, vb).CopyTo(d.Slice(i, 8));
            }
        }
        for (; i < x.Length; i++) d[i] = MathF.FusedMultiplyAdd(x[i], a, b);
    }

    // ---------- activations not in TensorPrimitives ----------

    /// <summary>d = x * sigmoid(x); x and d may be the same memory.</summary>
    public static void Silu(ReadOnlySpan<float> x, Span<float> d) => FastMath.Silu(x, d);

    /// <summary>d = g * silu'(x); x, g and d may alias.</summary>
    public static void SiluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> d) =>
        FastMath.SiluGrad(x, g, d);

    /// <summary>Exact (erf) GELU, as PyTorch's default.</summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> d) => FastMath.Gelu(x, d);

    /// <summary>d = g * gelu'(x).</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> d) =>
        FastMath.GeluGrad(x, g, d);

    /// <summary>erf: Maclaurin series for |x| &lt; 0.5, otherwise 1 - erfc with erfc from Numerical Recipes' erfcc
    /// (relative error &lt; 1.2e-7).</summary>
    public static float Erf(float xf)
    {
        double x = xf, ax = Math.Abs(x);
        if (ax < 0.5)
        {
            double t = x * x;
            return (float)(x * (1.1283791670955126 + t * (-0.3761263890318375 + t * (0.1128379167095513 +
                t * (-0.0268661706451312 + t
                    * (0.0052239776254421 + t * (-0.0008548327023450 + t * 0.0001205533298179)))))));
        }
        double tt = 1.0 / (1.0 + 0.5 * ax);
        double erfc = tt * Math.Exp(-ax * ax - 1.26551223 + tt * (1.00002368 + tt * (0.37409196 + tt * (0.09678418 +
                      tt * (-0.18628806 + tt * (0.27886807 + tt * (-1.13520398 + tt * (1.48851587 +
                      tt * (-0.82215223 + tt * 0.17087277)))))))));
        double r = 1.0 - erfc;
        return (float)(x >= 0 ? r : -r);
    }
}
