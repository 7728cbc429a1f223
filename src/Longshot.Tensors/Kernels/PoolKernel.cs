namespace Longshot.Tensors.Kernels;

/// <summary>Nearest upsampling and average pooling (kernel = stride) on [N, C, D, H, W].</summary>
internal static class PoolKernel
{
    public static Tensor Upsample(Tensor x, int[] f)
    {
        int planes = x.Shape[0] * x.Shape[1], d = x.Shape[2], h = x.Shape[3], w = x.Shape[4];
        int od = d * f[0], oh = h * f[1], ow = w * f[2];
        var y = Tensor.Empty(x.Shape[0], x.Shape[1], od, oh, ow);
        var src = x.Storage; var dst = y.Storage; int off = x.Offset;
        Threads.For(planes, 8, (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
                for (int z = 0; z < od; z++)
                    for (int yy = 0; yy < oh; yy++)
                    {
                        int s = off + ((p * d + z / f[0]) * h + yy / f[1]) * w;
                        int o = ((p * od + z) * oh + yy) * ow;
                        for (int xx = 0; xx < ow; xx++) dst[o + xx] = src[s + xx / f[2]];
                    }
        });
        return y;
    }

    /// <summary>Sums each f-block of g (the adjoint of <see cref="Upsample"/>).</summary>
    public static Tensor BlockSum(Tensor g, int[] f, float scale)
    {
        var gc = g.Contiguous();
        int n = gc.Shape[0], c = gc.Shape[1], od = gc.Shape[2] / f[0], oh = gc.Shape[3] / f[1], ow = gc.Shape[4] / f[2];
        int d = gc.Shape[2], h = gc.Shape[3], w = gc.Shape[4];
        var y = Tensor.Zeros(n, c, od, oh, ow);
        var src = gc.Storage; var dst = y.Storage; int off = gc.Offset;
        Threads.For(n * c, 8, (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
                for (int z = 0; z < d; z++)
                    for (int yy = 0; yy < h; yy++)
                    {
                        int s = off + ((p * d + z) * h + yy) * w;
                        int o = ((p * od + z / f[0]) * oh + yy / f[1]) * ow;
                        for (int xx = 0; xx < w; xx++) dst[o + xx / f[2]] += src[s + xx] * scale;
                    }
        });
        return y;
    }

    public static Tensor AvgPool(Tensor x, int[] k) => BlockSum(x, k, 1f / (k[0] * k[1] * k[2]));
}
