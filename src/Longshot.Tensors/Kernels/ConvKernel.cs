namespace Longshot.Tensors.Kernels;

/// <summary>
/// Convolution as tiled im2col + GEMM (pointwise convolutions are plain GEMMs).
/// Images of a batch are split across threads, each running single-threaded GEMMs;
/// a single image uses the multi-threaded GEMM instead.
/// </summary>
internal static unsafe class ConvKernel
{
    [ThreadStatic] private static float[]? _workspace;

    private static float[] Workspace(long size) => ThreadScratch.Get(ref _workspace, size, pinned: true);

    /// <summary>y[n] = W [Co, K] x cols(x[n]) (+ bias). x: [N, C, D, H, W] contiguous at xOff, y: [N, Co, P].</summary>
    public static void Forward(float[] x, int xOff, int n, ConvGeometry g, float[] w, int wOff, int co, float[]? bias,
        int biasOff, float[] y)
    {
        int p = g.P, k = g.K;
        bool perImage = n >= Threads.Count;
        Threads.For(n, perImage ? 1 : n, (i0, i1) =>
        {
            fixed (float* px = x, pw = w, py = y)
            {
                int group = perImage && !g.IsPointwise ? ImagesPerGemm(g, i1 - i0) : 1;
                for (int i = i0; i < i1; i += group)
                {
                    if (group > 1)
                    {
                        ForwardImages(px + xOff + (long)i * g.InSize, Math.Min(group, i1 - i), g, pw + wOff, co, bias,
                            biasOff, py + (long)i * co * p);
                        continue;
                    }
                    float* xi = px + xOff + (long)i * g.InSize;
                    float* yi = py + (long)i * co * p;
                    float beta = 0f;
                    if (bias != null)
                    {
                        for (int c = 0; c < co; c++) new Span<float>(yi + (long)c * p, p).Fill(bias[biasOff + c]);
                        beta = 1f;
                    }
                    if (g.IsPointwise)
                    {
                        Gemm.Sgemm(false, false, co, p, k, 1f, pw + wOff, k, xi, p, beta, yi, p, parallel: !perImage);
                        continue;
                    }
                    int tileRows = Im2Col.RowsPerTile(g), rows = g.OD * g.OH;
                    var ws = Workspace((long)k * tileRows * g.OW);
                    fixed (float* cols = ws)
                    {
                        for (int r0 = 0; r0 < rows; r0 += tileRows)
                        {
                            int r1 = Math.Min(rows, r0 + tileRows), tp = (r1 - r0) * g.OW;
                            Im2Col.Expand(xi, g, r0, r1, cols);
                            Gemm.Sgemm(false, false, co, tp, k, 1f, pw + wOff, k, cols, tp, beta, yi + (long)r0 * g.OW,
                                p, parallel: !perImage);
                        }
                    }
                }
            }
        });
    }

    /// <summary>Images whose columns share one GEMM: one, unless an image has fewer output positions than a tile's
    /// minimum (SVD's 4x4 level: 16), when each GEMM would read the whole weight matrix for a few columns.</summary>
    private static int ImagesPerGemm(ConvGeometry g, int images) =>
        g.P >= Im2Col.MinColumns ? 1 : Math.Min(images, (Im2Col.MinColumns + g.P - 1) / g.P);

    /// <summary>y[i] = W x cols(x[i]) (+ bias) for <paramref name="images"/> consecutive images in one GEMM: their
    /// columns side by side, the product then copied out per image. Each element's sum is the one the per-image
    /// path computes (the GEMM's sums do not depend on how columns are grouped).</summary>
    private static void ForwardImages(float* x, int images, ConvGeometry g, float* w, int co, float[]? bias,
        int biasOff, float* y)
    {
        int p = g.P, k = g.K, width = images * p;
        var ws = Workspace((long)k * width + (long)co * width);
        fixed (float* cols = ws)
        {
            float* product = cols + (long)k * width;
            for (int j = 0; j < images; j++)
                Im2Col.Expand(x + (long)j * g.InSize, g, 0, g.OD * g.OH, cols + (long)j * p, width);
            float beta = 0f;
            if (bias != null)
            {
                for (int c = 0; c < co; c++) new Span<float>(product + (long)c * width, width).Fill(bias[biasOff + c]);
                beta = 1f;
            }
            Gemm.Sgemm(false, false, co, width, k, 1f, w, k, cols, width, beta, product, width, parallel: false);
            for (int j = 0; j < images; j++)
                for (int c = 0; c < co; c++)
                    new ReadOnlySpan<float>(product + (long)c * width + (long)j * p, p)
                        .CopyTo(new Span<float>(y + ((long)j * co + c) * p, p));
        }
    }

    /// <summary>dx[n] = col2im(W^T dy[n]). dx is written (not accumulated).</summary>
    public static void BackwardInput(float[] dy, int n, ConvGeometry g, float[] w, int wOff, int co, float[] dx)
    {
        int p = g.P, k = g.K;
        bool perImage = n >= Threads.Count;
        Threads.For(n, perImage ? 1 : n, (i0, i1) =>
        {
            fixed (float* pdy = dy, pw = w, pdx = dx)
            {
                for (int i = i0; i < i1; i++)
                {
                    float* dyi = pdy + (long)i * co * p;
                    float* dxi = pdx + (long)i * g.InSize;
                    if (g.IsPointwise)
                    {
                        Gemm.Sgemm(true, false, k, p, co, 1f, pw + wOff, k, dyi, p, 0f, dxi, p, parallel: !perImage);
                        continue;
                    }
                    new Span<float>(dxi, g.InSize).Clear();
                    int tileRows = Im2Col.RowsPerTile(g), rows = g.OD * g.OH;
                    var ws = Workspace((long)k * tileRows * g.OW);
                    fixed (float* cols = ws)
                    {
                        for (int r0 = 0; r0 < rows; r0 += tileRows)
                        {
                            int r1 = Math.Min(rows, r0 + tileRows), tp = (r1 - r0) * g.OW;
                            Gemm.Sgemm(true, false, k, tp, co, 1f, pw + wOff, k, dyi + (long)r0 * g.OW, p, 0f, cols,
                                tp, parallel: !perImage);
                            Im2Col.Accumulate(cols, g, r0, r1, dxi);
                        }
                    }
                }
            }
        });
    }

    /// <summary>dW [Co, K] = sum_n dy[n] cols(x[n])^T; per-thread partials are added in a fixed order.</summary>
    public static float[] BackwardWeight(float[] x, int xOff, float[] dy, int n, ConvGeometry g, int co)
    {
        int p = g.P, k = g.K;
        bool perImage = n >= Threads.Count;
        int chunks = Threads.Chunks(n, perImage ? 1 : n);
        var partials = new float[chunks][];
        Threads.For(n, perImage ? 1 : n, (chunk, i0, i1) =>
        {
            var dw = new float[co * k];
            fixed (float* px = x, pdy = dy, pdw = dw)
            {
                for (int i = i0; i < i1; i++)
                {
                    float* xi = px + xOff + (long)i * g.InSize;
                    float* dyi = pdy + (long)i * co * p;
                    if (g.IsPointwise)
                    {
                        Gemm.Sgemm(false, true, co, k, p, 1f, dyi, p, xi, p, 1f, pdw, k, parallel: !perImage);
                        continue;
                    }
                    int tileRows = Im2Col.RowsPerTile(g), rows = g.OD * g.OH;
                    var ws = Workspace((long)k * tileRows * g.OW);
                    fixed (float* cols = ws)
                    {
                        for (int r0 = 0; r0 < rows; r0 += tileRows)
                        {
                            int r1 = Math.Min(rows, r0 + tileRows), tp = (r1 - r0) * g.OW;
                            Im2Col.Expand(xi, g, r0, r1, cols);
                            Gemm.Sgemm(false, true, co, k, tp, 1f, dyi + (long)r0 * g.OW, p, cols, tp, 1f, pdw, k,
                                parallel: !perImage);
                        }
                    }
                }
            }
            partials[chunk] = dw;
        });
        var total = partials[0];
        for (int c = 1; c < chunks; c++)
            System.Numerics.Tensors.TensorPrimitives.Add(total, partials[c], total);
        return total;
    }

    /// <summary>Bias gradient: per output channel, the sum of dy [N, Co, P] over images and positions (in a fixed
    /// order).</summary>
    public static float[] BiasGradient(float[] dy, int dyOff, int n, int co, int p)
    {
        var db = new float[co];
        Threads.For(co, 8, (c0, c1) =>
        {
            for (int c = c0; c < c1; c++)
            {
                double s = 0;
                for (int i = 0; i < n; i++) s += System.Numerics.Tensors.TensorPrimitives.Sum(dy.AsSpan(dyOff
                    + (i * co + c) * p, p));
                db[c] = (float)s;
            }
        });
        return db;
    }

    /// <summary>
    /// Transposed convolution forward: y[n] = col2im(W^T x[n]) with W [Ci, Co*k] and g describing
    /// the ordinary convolution that maps y (C = Co) back to x (output = input size of x).
    /// </summary>
    public static void TransposedForward(float[] x, int xOff, int n, int ci, ConvGeometry g, float[] w, int wOff,
        float[] y)
    {
        int p = g.P, k = g.K;
        bool perImage = n >= Threads.Count;
        Threads.For(n, perImage ? 1 : n, (i0, i1) =>
        {
            var ws = Workspace((long)k * p);
            fixed (float* px = x, pw = w, py = y, cols = ws)
            {
                for (int i = i0; i < i1; i++)
                {
                    float* yi = py + (long)i * g.InSize;
                    new Span<float>(yi, g.InSize).Clear();
                    Gemm.Sgemm(true, false, k, p, ci, 1f, pw + wOff, k, px + xOff + (long)i * ci * p, p, 0f, cols, p,
                        parallel: !perImage);
                    Im2Col.Accumulate(cols, g, 0, g.OD * g.OH, yi);
                }
            }
        });
    }

    /// <summary>Transposed convolution backward: dx[n] = W cols(dy[n]); dW = sum_n x[n] cols(dy[n])^T.</summary>
    public static float[] TransposedBackward(float[] x, int xOff, float[] dy, int n, int ci, ConvGeometry g, float[] w,
        int wOff, float[]? dx, bool needWeight)
    {
        int p = g.P, k = g.K;
        bool perImage = n >= Threads.Count;
        int chunks = Threads.Chunks(n, perImage ? 1 : n);
        var partials = new float[chunks][];
        Threads.For(n, perImage ? 1 : n, (chunk, i0, i1) =>
        {
            var dw = needWeight ? new float[ci * k] : null;
            var ws = Workspace((long)k * p);
            fixed (float* px = x, pdy = dy, pw = w, cols = ws, pdw = dw, pdx = dx)
            {
                for (int i = i0; i < i1; i++)
                {
                    Im2Col.Expand(pdy + (long)i * g.InSize, g, 0, g.OD * g.OH, cols);
                    if (dx != null)
                        Gemm.Sgemm(false, false, ci, p, k, 1f, pw + wOff, k, cols, p, 0f, pdx + (long)i * ci * p, p,
                            parallel: !perImage);
                    if (dw != null)
                        Gemm.Sgemm(false, true, ci, k, p, 1f, px + xOff + (long)i * ci * p, p, cols, p, 1f, pdw, k,
                            parallel: !perImage);
                }
            }
            if (dw != null) partials[chunk] = dw;
        });
        if (!needWeight) return Array.Empty<float>();
        var total = partials[0];
        for (int c = 1; c < chunks; c++)
            System.Numerics.Tensors.TensorPrimitives.Add(total, partials[c], total);
        return total;
    }
}
