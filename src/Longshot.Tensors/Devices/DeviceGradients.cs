using Longshot.Tensors.Autograd;

namespace Longshot.Tensors.Devices;

/// <summary>
/// What the backward rules of ops recorded on a device need: the forward's settings (the contexts below, kept in the
/// graph's nodes) and the gradients composed from the backend's primitives. The rules themselves stay in
/// <see cref="Backward"/>, one case per op; a case whose CPU form reads host memory calls these for device tensors.
/// </summary>
internal static partial class DeviceOps
{
    /// <summary>A device convolution's settings.</summary>
    public sealed record ConvCtx(int[] Stride, int[] Padding);

    /// <summary>A device transposed convolution's settings and output size.</summary>
    public sealed record ConvTransposeCtx(int[] Stride, int[] Padding, int[] OutSize);

    /// <summary>A device attention call: each query's log-sum-exp, the mask and the scale.</summary>
    public sealed record AttentionCtx(Tensor Lse, Tensor? Mask, float Scale);

    /// <summary>A device group norm's settings.</summary>
    public sealed record GroupNormCtx(int Groups, float Eps, bool Silu);

    /// <summary>A device layer norm's settings and which affine parameters it has.</summary>
    public sealed record LayerNormCtx(float Eps, bool HasGamma, bool HasBeta);

    /// <summary>Constant padding on a device (left/right pairs from the last dimension back).</summary>
    public sealed record PadCtx(int[] Pads);

    /// <summary>A tensor of <paramref name="shape"/> on the device, every element <paramref name="value"/>.</summary>
    public static Tensor Full(IDeviceBackend be, float value, params int[] shape)
    {
        var y = Empty(be, shape);
        if (y.Numel > 0) be.Fill(y.Buffer.Memory!, 0, y.Numel, value);
        return y;
    }

    /// <summary>Sum over <paramref name="dims"/> (sorted, distinct): the reduced dimensions are moved last by a
    /// strided copy (rank up to 8), then each row is summed.</summary>
    public static Tensor Sum(IDeviceBackend be, Tensor x, int[] dims, bool keepDim)
    {
        var kept = Enumerable.Range(0, x.Rank).Where(d => !dims.Contains(d)).ToArray();
        var moved = Contiguous(be, x.Detach().Permute(kept.Concat(dims).ToArray()));
        int cols = dims.Aggregate(1, (p, d) => p * x.Shape[d]);
        var y = Empty(be, Ops.ReducedShape(x.Shape, dims, keepDim));
        if (y.Numel > 0 && cols == 0) be.Fill(y.Buffer.Memory!, 0, y.Numel, 0f);
        else be.SumRows(moved.Buffer.Memory!, moved.Offset, y.Buffer.Memory!, y.Numel, cols);
        return y;
    }

    /// <summary>dy * op'(x) elementwise.</summary>
    public static Tensor UnaryBackward(IDeviceBackend be, DeviceUnaryOp op, Tensor x, Tensor dy)
    {
        x = Packed(be, x); dy = Packed(be, dy);
        var dx = Empty(be, (int[])x.Shape.Clone());
        be.UnaryBackward(op, x.Buffer.Memory!, dy.Buffer.Memory!, dx.Buffer.Memory!, x.Numel);
        return dx;
    }

    /// <summary>Softmax's backward over the last dimension from its output.</summary>
    public static Tensor SoftmaxBackward(IDeviceBackend be, Tensor y, Tensor dy)
    {
        y = Packed(be, y); dy = Packed(be, dy);
        int cols = y.Shape[^1];
        var dx = Empty(be, (int[])y.Shape.Clone());
        be.SoftmaxBackward(y.Buffer.Memory!, dy.Buffer.Memory!, dx.Buffer.Memory!, y.Numel / Math.Max(1, cols), cols);
        return dx;
    }

    /// <summary>A convolution's input, weight and bias gradients (each only when asked): per sample, the weight's
    /// from the input's columns (accumulated by GEMM), the input's by col2im of W^T dy.</summary>
    public static (Tensor? Dx, Tensor? Dw, Tensor? Db) ConvBackward(IDeviceBackend be, Tensor x, Tensor w, Tensor dy,
        ConvCtx c, bool needX, bool needW, bool needB)
    {
        x = Contiguous(be, x); w = Contiguous(be, w); dy = Contiguous(be, dy);
        var g = new DeviceConv(x.Shape[1], x.Shape[2], x.Shape[3], x.Shape[4], w.Shape[2], w.Shape[3], w.Shape[4],
            c.Stride[0], c.Stride[1], c.Stride[2], c.Padding[0], c.Padding[1], c.Padding[2]);
        int n = x.Shape[0], co = w.Shape[0], k = g.C * g.KD * g.KH * g.KW, p = g.OD * g.OH * g.OW;
        long image = (long)g.C * g.D * g.H * g.W;
        var dx = needX ? Empty(be, (int[])x.Shape.Clone()) : null;
        var dw = needW ? Full(be, 0f, (int[])w.Shape.Clone()) : null;
        using (var cols = be.Allocate((long)k * p))
            for (int i = 0; i < n; i++)
            {
                long gi = dy.Offset + (long)i * co * p;
                if (dw != null)
                {
                    be.Im2Col(x.Buffer.Memory!, x.Offset + i * image, g, cols);
                    be.Gemm(false, true, co, k, p, 1f, dy.Buffer.Memory!, gi, cols, 0, 1f, dw.Buffer.Memory!, 0);
                }
                if (dx != null)
                {
                    be.Gemm(true, false, k, p, co, 1f, w.Buffer.Memory!, w.Offset, dy.Buffer.Memory!, gi, 0f, cols,
                        0);
                    be.Col2Im(cols, g, dx.Buffer.Memory!, i * image);
                }
            }
        return (dx, dw, needB ? Sum(be, dy, new[] { 0, 2, 3, 4 }, false) : null);
    }

    /// <summary>A transposed convolution's gradients: the output gradient's columns (im2col, the adjoint of the
    /// forward's col2im) times W for the input, and accumulated against the input for the weight.</summary>
    public static (Tensor? Dx, Tensor? Dw, Tensor? Db) ConvTransposeBackward(IDeviceBackend be, Tensor x, Tensor w,
        Tensor dy, ConvTransposeCtx c, bool needX, bool needW, bool needB)
    {
        x = Contiguous(be, x); w = Contiguous(be, w); dy = Contiguous(be, dy);
        int n = x.Shape[0], ci = w.Shape[0], co = w.Shape[1];
        var g = new DeviceConv(co, c.OutSize[0], c.OutSize[1], c.OutSize[2], w.Shape[2], w.Shape[3], w.Shape[4],
            c.Stride[0], c.Stride[1], c.Stride[2], c.Padding[0], c.Padding[1], c.Padding[2]);
        int k = co * g.KD * g.KH * g.KW, p = x.Shape[2] * x.Shape[3] * x.Shape[4];
        long image = (long)co * g.D * g.H * g.W;
        var dx = needX ? Empty(be, (int[])x.Shape.Clone()) : null;
        var dw = needW ? Full(be, 0f, (int[])w.Shape.Clone()) : null;
        using (var cols = be.Allocate((long)k * p))
            for (int i = 0; i < n; i++)
            {
                be.Im2Col(dy.Buffer.Memory!, dy.Offset + i * image, g, cols);
                long xi = x.Offset + (long)i * ci * p;
                if (dx != null)
                    be.Gemm(false, false, ci, p, k, 1f, w.Buffer.Memory!, w.Offset, cols, 0, 0f, dx.Buffer.Memory!,
                        (long)i * ci * p);
                if (dw != null)
                    be.Gemm(false, true, ci, k, p, 1f, x.Buffer.Memory!, xi, cols, 0, 1f, dw.Buffer.Memory!, 0);
            }
        return (dx, dw, needB ? Sum(be, dy, new[] { 0, 2, 3, 4 }, false) : null);
    }

    /// <summary>Nearest upsampling's backward: each input element's block of the output gradient summed.</summary>
    public static Tensor UpsampleNearestBackward(IDeviceBackend be, Tensor dy, int[] f)
    {
        dy = Contiguous(be, dy);
        int n = dy.Shape[0], c = dy.Shape[1], d = dy.Shape[2] / f[0], h = dy.Shape[3] / f[1], w = dy.Shape[4] / f[2];
        var blocks = dy.Detach().Reshape(n, c, d, f[0], h, f[1], w, f[2]);
        return Sum(be, blocks, new[] { 3, 5, 7 }, false);
    }

    /// <summary>Group norm's gradients; with the fused SiLU, its derivative at the recomputed pre-activation
    /// first.</summary>
    public static (Tensor Dx, Tensor? DGamma, Tensor? DBeta) GroupNormBackward(IDeviceBackend be, Tensor x,
        Tensor dy, Tensor? gamma, Tensor? beta, GroupNormCtx c)
    {
        x = Packed(be, x);
        if (c.Silu)
            dy = UnaryBackward(be, DeviceUnaryOp.Silu, GroupNorm(be, x, c.Groups, gamma, beta, c.Eps, false), dy);
        dy = Packed(be, dy);
        int n = x.Shape[0], ch = x.Shape[1], spatial = x.Numel / Math.Max(1, n * ch);
        var g = gamma != null ? Packed(be, gamma) : Full(be, 1f, ch);
        var dx = Empty(be, (int[])x.Shape.Clone());
        var dgPart = Empty(be, n, ch);
        var dbPart = Empty(be, n, ch);
        be.GroupNormBackward(x.Buffer.Memory!, dy.Buffer.Memory!, g.Buffer.Memory!, dx.Buffer.Memory!,
            dgPart.Buffer.Memory!, dbPart.Buffer.Memory!, n, ch, spatial, c.Groups, c.Eps);
        return (dx, gamma != null ? Sum(be, dgPart, new[] { 0 }, false).Reshape(gamma.Shape) : null,
            beta != null ? Sum(be, dbPart, new[] { 0 }, false).Reshape(beta.Shape) : null);
    }

    /// <summary>Layer norm's gradients: dx by its kernel; gamma's as the row sum of dy times the recomputed
    /// normalised input, beta's as the row sum of dy.</summary>
    public static (Tensor Dx, Tensor? DGamma, Tensor? DBeta) LayerNormBackward(IDeviceBackend be, Tensor x, Tensor dy,
        Tensor? gamma, Tensor? beta, float eps)
    {
        x = Packed(be, x); dy = Packed(be, dy);
        int d = x.Shape[^1], rows = x.Numel / Math.Max(1, d);
        var g = gamma != null ? Packed(be, gamma) : Full(be, 1f, d);
        var dx = Empty(be, (int[])x.Shape.Clone());
        be.LayerNormBackward(x.Buffer.Memory!, dy.Buffer.Memory!, g.Buffer.Memory!, dx.Buffer.Memory!, rows, d, eps);
        var dy2 = dy.Reshape(rows, d);
        Tensor? dGamma = null;
        if (gamma != null)
        {
            var xhat = LayerNorm(be, x, null, null, eps).Reshape(rows, d);
            var prod = Binary(be, "LayerNorm", DeviceBinaryOp.Mul, dy2, xhat);
            dGamma = Sum(be, prod, new[] { 0 }, false).Reshape(gamma.Shape);
        }
        return (dx, dGamma, beta != null ? Sum(be, dy2, new[] { 0 }, false).Reshape(beta.Shape) : null);
    }

    /// <summary>The embedding table's gradient: each output row's gradient added to the row it was read from.</summary>
    public static Tensor EmbeddingBackward(IDeviceBackend be, Tensor dy, int[] ids, int[] tableShape)
    {
        dy = Packed(be, dy);
        var dTable = Full(be, 0f, tableShape);
        be.EmbeddingBackward(ids, dy.Buffer.Memory!, tableShape[1], dTable.Buffer.Memory!);
        return dTable;
    }

    /// <summary>Attention's gradients for q, k, v and (when <paramref name="biasGrad"/>) the scores, [B, H, Lq, Lk],
    /// which the gradient store sums down to the bias's own shape.</summary>
    public static (Tensor Dq, Tensor Dk, Tensor Dv, Tensor? DScores) AttentionBackward(IDeviceBackend be, Tensor q,
        Tensor k, Tensor v, Tensor? bias, Tensor o, Tensor dO, AttentionCtx c, bool biasGrad)
    {
        q = Packed(be, q); k = Packed(be, k); v = Packed(be, v); o = Packed(be, o); dO = Packed(be, dO);
        int b = q.Shape[0], h = q.Shape[1], lq = q.Shape[2], d = q.Shape[3], lk = k.Shape[2], dv = v.Shape[3];
        var dq = Empty(be, b, h, lq, d);
        var dk = Empty(be, b, h, lk, d);
        var dvT = Empty(be, b, h, lk, dv);
        var dScores = biasGrad ? Empty(be, b, h, lq, lk) : null;
        be.AttentionBackward(q.Buffer.Memory!, k.Buffer.Memory!, v.Buffer.Memory!,
            AttentionExtra(bias, "bias", b, h, lq, lk), AttentionExtra(c.Mask, "mask", b, h, lq, lk), o.Buffer.Memory!,
            dO.Buffer.Memory!, c.Lse.Buffer.Memory!, dq.Buffer.Memory!, dk.Buffer.Memory!, dvT.Buffer.Memory!,
            dScores?.Buffer.Memory, b, h, lq, lk, d, dv, c.Scale);
        return (dq, dk, dvT, dScores);
    }

    /// <summary>Narrow's backward: the gradient padded with zeros back to the input's size along
    /// <paramref name="dim"/>.</summary>
    public static Tensor NarrowBackward(IDeviceBackend be, Tensor dy, int[] shape, int dim, int start)
    {
        // Constant padding takes (before, after) pairs from the last dimension back.
        var pads = new int[2 * (dy.Rank - dim)];
        pads[^2] = start;
        pads[^1] = shape[dim] - start - dy.Shape[dim];
        return PadConstant(be, dy, pads, 0f);
    }

    /// <summary>Constant padding's backward: the region of the gradient the input was copied to.</summary>
    public static Tensor PadBackward(IDeviceBackend be, Tensor dy, int[] pads, int[] inShape)
    {
        var r = dy.Detach();
        for (int i = 0; i < pads.Length / 2; i++)
        {
            int d = dy.Rank - 1 - i;
            r = r.Narrow(d, pads[2 * i], inShape[d]);
        }
        return Copy(be, r);
    }

    /// <summary>One AdamW step of a device parameter with its device moments.</summary>
    public static void AdamW(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWConstants c)
    {
        var be = Backend("AdamW", param, grad)!;
        if (!param.IsContiguous)
            throw new LongshotException($"AdamW on {be.Device}: parameter {param} is not contiguous.");
        grad = Packed(be, grad);
        be.AdamW(param.Buffer.Memory!, param.Offset, grad.Buffer.Memory!, m.Buffer.Memory!, v.Buffer.Memory!,
            param.Numel, c);
    }
}
