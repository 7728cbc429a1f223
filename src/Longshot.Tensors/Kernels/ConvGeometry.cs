namespace Longshot.Tensors.Kernels;

/// <summary>
/// Shape of one 3-D convolution (1-D and 2-D use size-1 leading dims): input C x D x H x W,
/// kernel KD x KH x KW, stride, zero padding, and the resulting output OD x OH x OW.
/// </summary>
internal sealed record ConvGeometry(
    int C, int D, int H, int W,
    int KD, int KH, int KW,
    int SD, int SH, int SW,
    int PD, int PH, int PW)
{
    public int OD => (D + 2 * PD - KD) / SD + 1;
    public int OH => (H + 2 * PH - KH) / SH + 1;
    public int OW => (W + 2 * PW - KW) / SW + 1;

    /// <summary>Rows of the column matrix: C * KD * KH * KW.</summary>
    public int K => C * KD * KH * KW;

    /// <summary>Output positions per image: OD * OH * OW.</summary>
    public int P => OD * OH * OW;

    public int InSize => C * D * H * W;

    /// <summary>True when the column matrix is the input itself (1x1x1 kernel, stride 1, no padding).</summary>
    public bool IsPointwise => KD == 1 && KH == 1 && KW == 1 && SD == 1 && SH == 1 && SW == 1 && PD == 0 && PH == 0
        && PW == 0;
}

/// <summary>im2col / col2im over a range of output rows, so the column buffer stays small.</summary>
internal static unsafe class Im2Col
{
    /// <summary>
    /// Writes columns for output rows [r0, r1) (a row = one (oz, oy) pair of OW positions) into dst,
    /// laid out [K, (r1 - r0) * OW].
    /// </summary>
    public static void Expand(float* src, ConvGeometry g, int r0, int r1, float* dst) =>
        Expand(src, g, r0, r1, dst, (r1 - r0) * g.OW);

    /// <summary>As above with rows of <paramref name="cols"/> floats apart: several images' columns side by side in
    /// one buffer.</summary>
    public static void Expand(float* src, ConvGeometry g, int r0, int r1, float* dst, int cols)
    {
        int ow = g.OW, oh = g.OH;
        for (int c = 0; c < g.C; c++)
        for (int kz = 0; kz < g.KD; kz++)
        for (int ky = 0; ky < g.KH; ky++)
        for (int kx = 0; kx < g.KW; kx++)
        {
            int row = ((c * g.KD + kz) * g.KH + ky) * g.KW + kx;
            float* d = dst + (long)row * cols;
            for (int r = r0; r < r1; r++, d += ow)
            {
                int oz = r / oh, oy = r - oz * oh;
                int iz = oz * g.SD - g.PD + kz, iy = oy * g.SH - g.PH + ky;
                if ((uint)iz >= (uint)g.D || (uint)iy >= (uint)g.H) { new Span<float>(d, ow).Clear(); continue; }
                float* s = src + ((long)(c * g.D + iz) * g.H + iy) * g.W;
                int ix0 = kx - g.PW;
                if (g.SW == 1)
                {
                    // Valid ox: 0 <= ox + ix0 < W.
                    int lo = Math.Max(0, -ix0), hi = Math.Min(ow, g.W - ix0);
                    if (hi <= lo) { new Span<float>(d, ow).Clear(); continue; }
                    for (int o = 0; o < lo; o++) d[o] = 0f;
                    new ReadOnlySpan<float>(s + lo + ix0, hi - lo).CopyTo(new Span<float>(d + lo, hi - lo));
                    for (int o = hi; o < ow; o++) d[o] = 0f;
                }
                else
                {
                    for (int o = 0; o < ow; o++)
                    {
                        int ix = o * g.SW + ix0;
                        d[o] = (uint)ix < (uint)g.W ? s[ix] : 0f;
                    }
                }
            }
        }
    }

    /// <summary>Adds columns for output rows [r0, r1) back into the image (the adjoint of <see
    /// cref="Expand"/>).</summary>
    public static void Accumulate(float* cols, ConvGeometry g, int r0, int r1, float* dst)
    {
        int ow = g.OW, oh = g.OH, n = (r1 - r0) * ow;
        for (int c = 0; c < g.C; c++)
        for (int kz = 0; kz < g.KD; kz++)
        for (int ky = 0; ky < g.KH; ky++)
        for (int kx = 0; kx < g.KW; kx++)
        {
            int row = ((c * g.KD + kz) * g.KH + ky) * g.KW + kx;
            float* s = cols + (long)row * n;
            for (int r = r0; r < r1; r++, s += ow)
            {
                int oz = r / oh, oy = r - oz * oh;
                int iz = oz * g.SD - g.PD + kz, iy = oy * g.SH - g.PH + ky;
                if ((uint)iz >= (uint)g.D || (uint)iy >= (uint)g.H) continue;
                float* d = dst + ((long)(c * g.D + iz) * g.H + iy) * g.W;
                int ix0 = kx - g.PW;
                if (g.SW == 1)
                {
                    int lo = Math.Max(0, -ix0), hi = Math.Min(ow, g.W - ix0);
                    if (hi > lo)
                    {
                        var seg = new Span<float>(d + lo + ix0, hi - lo);
                        System.Numerics.Tensors.TensorPrimitives.Add(seg, new ReadOnlySpan<float>(s + lo, hi - lo),
                            seg);
                    }
                }
                else
                {
                    for (int o = 0; o < ow; o++)
                    {
                        int ix = o * g.SW + ix0;
                        if ((uint)ix < (uint)g.W) d[ix] += s[o];
                    }
                }
            }
        }
    }

    /// <summary>Output rows per tile so that a K x (rows * OW) column buffer stays near 1 MB, but with at least
    /// <see cref="MinColumns"/> columns where the image has them.</summary>
    public static int RowsPerTile(ConvGeometry g)
    {
        const int target = 1 << 18;
        int rows = Math.Max(1, target / Math.Max(1, g.K * g.OW));
        rows = Math.Max(rows, (MinColumns + g.OW - 1) / g.OW);
        return Math.Min(rows, g.OD * g.OH);
    }

    /// <summary>Each tile's GEMM reads the whole weight matrix: with deep kernels (SVD's 1,280-channel 3 x 3 at 8 x 8,
    /// K = 11,520) the 1 MB rule left 16 columns, half a micro-tile, and streamed 59 MB of weights per 16 columns.
    /// 64 columns made that convolution 3.0-3.1x faster and left the others as they were (`bench -- conv-svd`,
    /// docs/performance.md).</summary>
    internal const int MinColumns = 64;
}
