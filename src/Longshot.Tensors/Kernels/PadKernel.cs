namespace Longshot.Tensors.Kernels;

/// <summary>Padding of the last 1-3 dimensions through per-dimension index maps (-1 = constant fill).</summary>
internal static class PadKernel
{
    internal sealed record Ctx(int[] InShape, int[] OutShape, int Batch, int[][] Maps, int[] InDims, int[] OutDims);

    public static Ctx Plan(int[] shape, int[] pads, PadMode mode)
    {
        if (pads.Length % 2 != 0 || pads.Length == 0 || pads.Length > 6 || pads.Length / 2 > shape.Length)
            throw new ArgumentException($"Pad: {pads.Length} pad values for a tensor of shape " +
                $"{ShapeUtil.Str(shape)}; give (left, right) pairs for up to 3 trailing dimensions.");
        int k = pads.Length / 2;
        var outShape = (int[])shape.Clone();
        var maps = new int[3][]; var inDims = new[] { 1, 1, 1 }; var outDims = new[] { 1, 1, 1 };
        for (int j = 0; j < 3; j++)
        {
            if (j >= k) { maps[2 - j] = new[] { 0 }; continue; }
            int d = shape.Length - 1 - j, lo = pads[2 * j], hi = pads[2 * j + 1], n = shape[d];
            if (lo < 0 || hi < 0) throw new ArgumentException($"Pad: negative padding ({lo}, {hi}) is not supported.");
            if (mode == PadMode.Reflect && (lo >= n || hi >= n))
                throw new ArgumentException($"Pad: reflect padding ({lo}, {hi}) must be smaller than the dimension " +
                    $"size {n} of {ShapeUtil.Str(shape)}.");
            if (mode != PadMode.Constant && n == 0)
                throw new ArgumentException("Pad: cannot reflect or replicate an empty dimension.");
            int o = n + lo + hi;
            outShape[d] = o;
            var map = new int[o];
            for (int i = 0; i < o; i++)
            {
                int s = i - lo;
                if (s >= 0 && s < n) map[i] = s;
                else if (mode == PadMode.Constant) map[i] = -1;
                else if (mode == PadMode.Reflect) map[i] = s < 0 ? -s : 2 * (n - 1) - s;
                else map[i] = s < 0 ? 0 : n - 1;
            }
            maps[2 - j] = map; inDims[2 - j] = n; outDims[2 - j] = o;
        }
        int batch = 1;
        for (int d = 0; d < shape.Length - k; d++) batch *= shape[d];
        return new Ctx(shape, outShape, batch, maps, inDims, outDims);
    }

    public static Tensor Forward(Tensor x, Ctx c, float value)
    {
        var r = Tensor.Empty(c.OutShape);
        var src = x.Storage; var dst = r.Storage; int off = x.Offset;
        int iD = c.InDims[0], iH = c.InDims[1], iW = c.InDims[2], oD = c.OutDims[0], oH = c.OutDims[1],
            oW = c.OutDims[2];
        var mz = c.Maps[0]; var my = c.Maps[1]; var mx = c.Maps[2];
        Threads.For(c.Batch, 4, (b0, b1) =>
        {
            for (int b = b0; b < b1; b++)
                for (int z = 0; z < oD; z++)
                    for (int y = 0; y < oH; y++)
                    {
                        int o = ((b * oD + z) * oH + y) * oW;
                        int sz = mz[z], sy = my[y];
                        if (sz < 0 || sy < 0) { Array.Fill(dst, value, o, oW); continue; }
                        int s = ((b * iD + sz) * iH + sy) * iW + off;
                        for (int xx = 0; xx < oW; xx++) { int sx = mx[xx]; dst[o + xx] = sx < 0 ? value : src[s + sx]; }
                    }
        });
        return r;
    }

    public static Tensor Backward(Tensor g, Ctx c)
    {
        var gc = g.Contiguous();
        var r = Tensor.Zeros(c.InShape);
        var src = gc.Storage; var dst = r.Storage; int off = gc.Offset;
        int iD = c.InDims[0], iH = c.InDims[1], iW = c.InDims[2], oD = c.OutDims[0], oH = c.OutDims[1],
            oW = c.OutDims[2];
        var mz = c.Maps[0]; var my = c.Maps[1]; var mx = c.Maps[2];
        Threads.For(c.Batch, 4, (b0, b1) =>
        {
            for (int b = b0; b < b1; b++)
                for (int z = 0; z < oD; z++)
                    for (int y = 0; y < oH; y++)
                    {
                        int sz = mz[z], sy = my[y];
                        if (sz < 0 || sy < 0) continue;
                        int o = ((b * oD + z) * oH + y) * oW + off;
                        int s = ((b * iD + sz) * iH + sy) * iW;
                        for (int xx = 0; xx < oW; xx++) { int sx = mx[xx]; if (sx >= 0) dst[s + sx] += src[o + xx]; }
                    }
        });
        return r;
    }
}
