namespace Longshot.Tensors.Kernels;

/// <summary>Copies between strided views and contiguous buffers, merging dimensions where the layout allows.</summary>
internal static class StridedCopy
{
    /// <summary>Writes the elements of <paramref name="src"/> in row-major order into <paramref name="dst"/> at
    /// <paramref name="dstOff"/>.</summary>
    public static void Gather(Tensor src, float[] dst, int dstOff)
    {
        int n = src.Numel;
        if (n == 0) return;
        if (src.IsContiguous) { Array.Copy(src.Storage, src.Offset, dst, dstOff, n); return; }
        Coalesce(src.Shape, src.Strides, out var shape, out var strides);
        Walk(shape, strides, src.Offset, (srcPos, inner, innerStride, outPos) =>
        {
            var s = src.Storage;
            if (innerStride == 1) Array.Copy(s, srcPos, dst, dstOff + outPos, inner);
            else if (innerStride == 0) Array.Fill(dst, s[srcPos], dstOff + outPos, inner);
            else for (int i = 0; i < inner; i++) dst[dstOff + outPos + i] = s[srcPos + i * innerStride];
        });
    }

    /// <summary>Writes row-major <paramref name="src"/> into the (possibly strided) view <paramref
    /// name="dst"/>.</summary>
    public static void Scatter(float[] src, Tensor dst)
    {
        if (dst.Numel == 0) return;
        if (dst.IsContiguous) { Array.Copy(src, 0, dst.Storage, dst.Offset, dst.Numel); return; }
        Coalesce(dst.Shape, dst.Strides, out var shape, out var strides);
        Walk(shape, strides, dst.Offset, (dstPos, inner, innerStride, outPos) =>
        {
            var d = dst.Storage;
            for (int i = 0; i < inner; i++) d[dstPos + i * innerStride] = src[outPos + i];
        });
    }

    private delegate void RowAction(int pos, int inner, int innerStride, int rowStart);

    /// <summary>Visits each innermost row of a strided layout; rows are reported in row-major order.</summary>
    private static void Walk(int[] shape, int[] strides, int offset, RowAction row)
    {
        int r = shape.Length;
        if (r == 0) { row(offset, 1, 1, 0); return; }
        int inner = shape[r - 1], innerStride = strides[r - 1];
        var idx = new int[r];
        int pos = offset, outPos = 0, total = ShapeUtil.Numel(shape);
        while (outPos < total)
        {
            row(pos, inner, innerStride, outPos);
            outPos += inner;
            for (int d = r - 2; d >= 0; d--)
            {
                idx[d]++; pos += strides[d];
                if (idx[d] < shape[d]) break;
                pos -= strides[d] * shape[d]; idx[d] = 0;
            }
        }
    }

    /// <summary>Drops size-1 dimensions and merges neighbours that are laid out back to back.</summary>
    internal static void Coalesce(int[] shape, int[] strides, out int[] outShape, out int[] outStrides)
    {
        var s = new List<int>(); var st = new List<int>();
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] == 1) continue;
            if (s.Count > 0 && st[^1] == strides[d] * shape[d]) { s[^1] *= shape[d]; st[^1] = strides[d]; }
            else { s.Add(shape[d]); st.Add(strides[d]); }
        }
        if (s.Count == 0) { s.Add(1); st.Add(1); }
        outShape = s.ToArray(); outStrides = st.ToArray();
    }
}
