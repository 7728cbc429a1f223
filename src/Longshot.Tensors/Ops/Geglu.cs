using System.Numerics.Tensors;
using Longshot.Tensors.Autograd;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors;

public static partial class Ops
{
    /// <summary>
    /// GEGLU's gating: h [..., 2n] to h[..., :n] * gelu(h[..., n:]) (diffusers' GEGLU after its projection). Without a
    /// graph to record, on the CPU, one pass writes the product: the two halves are never copied out (they are strided
    /// views of h) and no gelu tensor is made, which for SVD's top level is three 147 MB tensors per feed-forward.
    /// Otherwise it is the composition of Narrow, Gelu and Mul, with their gradients. The two agree bit for bit when
    /// n is a whole number of vectors (16 floats), and within float rounding otherwise (the GELU's scalar tail).
    /// </summary>
    public static Tensor Geglu(Tensor h)
    {
        if (h.Rank < 1 || h.Shape[^1] % 2 != 0)
            throw new ArgumentException($"Geglu: the last dimension of {ShapeUtil.Str(h.Shape)} must be even.");
        int n = h.Shape[^1] / 2;
        if (Graph.Needed(h) || Devices.DeviceOps.Backend("Geglu", h) != null)
            return h.Narrow(-1, 0, n) * Gelu(h.Narrow(-1, n, n));
        var hc = h.Contiguous();
        var shape = (int[])h.Shape.Clone();
        shape[^1] = n;
        var y = Tensor.Empty(shape);
        int rows = y.Numel / Math.Max(1, n);
        float[] src = hc.Storage, dst = y.Storage;
        int srcOff = hc.Offset;
        Threads.For(rows, Math.Max(1, (1 << 14) / Math.Max(1, n)), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var row = dst.AsSpan(r * n, n);
                FastMath.Gelu(src.AsSpan(srcOff + r * 2 * n + n, n), row);
                TensorPrimitives.Multiply(src.AsSpan(srcOff + r * 2 * n, n), row, row);
            }
        });
        return y;
    }
}
