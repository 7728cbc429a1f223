using ILGPU;
using ILGPU.Runtime;
using Longshot.Tensors.Cuda.Kernels;

namespace Longshot.Tensors.Cuda;

/// <summary>
/// The CUDA backend's primitives, each a kernel loaded once per accelerator, with the launch geometry and argument
/// checks beside it. Every call is asynchronous on the accelerator's default stream; <see cref="GpuDevice.Download"/>
/// waits for it.
/// </summary>
public sealed class GpuKernels
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _unary;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _unaryBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, Broadcast4, int> _binary;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, Copy8> _copy;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ConvShape> _im2col, _col2im, _avgPool;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int,
        float> _layerNorm;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, float, float> _affine;
    private readonly Action<Index1D, ArrayView<float>, float> _fill;
    private readonly Action<Index1D, ArrayView<int>, ArrayView<float>, ArrayView<float>, int> _embeddingBackward;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int,
        float> _layerNormBackward;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        AttentionShape, int> _attentionBackwardQuery;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        AttentionShape> _attentionBackwardKey;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        AdamWStep> _adamW;
    private readonly Action<Index1D, ArrayView<int>, ArrayView<float>, ArrayView<float>, int> _embedding;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int> _sumRows, _softmax;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _softmaxBackward;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, int, int, int, float, int> _groupNorm;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _groupNormBackward;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape> _gemm;
    private readonly Action<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape> _gemmDirect;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionShape> _attention;

    internal GpuKernels(Accelerator a)
    {
        _unary = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(
            ElementwiseKernels.Unary);
        _unaryBackward = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            int>(ElementwiseKernels.UnaryBackward);
        _binary = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            Broadcast4, int>(ElementwiseKernels.Binary);
        _copy = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, Copy8>(
            ElementwiseKernels.Copy);
        _im2col = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvShape>(
            ConvKernels.Im2Col);
        _col2im = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvShape>(
            ConvKernels.Col2Im);
        _avgPool = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvShape>(
            ConvKernels.AvgPool);
        _layerNorm = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int,
            float>(RowKernels.LayerNorm);
        _affine = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float, float>(
            ElementwiseKernels.Affine);
        _fill = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(ElementwiseKernels.Fill);
        _embeddingBackward = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<float>, ArrayView<float>,
            int>(ElementwiseKernels.EmbeddingBackward);
        _layerNormBackward = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            int, float>(RowKernels.LayerNormBackward);
        _attentionBackwardQuery = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, AttentionShape, int>(AttentionKernels.BackwardQuery);
        _attentionBackwardKey = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, AttentionShape>(AttentionKernels.BackwardKey);
        _adamW = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, AdamWStep>(ElementwiseKernels.AdamW);
        _embedding = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(
            ElementwiseKernels.Embedding);
        _sumRows = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int>(RowKernels.SumRows);
        _softmax = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int>(RowKernels.Softmax);
        _softmaxBackward = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(
            RowKernels.SoftmaxBackward);
        _groupNorm = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, int, int, int, float, int>(RowKernels.GroupNorm);
        _groupNormBackward = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(
            RowKernels.GroupNormBackward);
        _gemm = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>(GemmKernels.Gemm);
        _gemmDirect = a.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            GemmShape>(GemmKernels.Direct);
        _attention = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionShape>(AttentionKernels.Forward);
    }

    /// <summary>The power-of-two group size for rows of <paramref name="cols"/> elements.</summary>
    private static int GroupFor(int cols)
    {
        int g = 32;
        while (g < RowKernels.MaxGroup && g < cols) g *= 2;
        return g;
    }

    private static void Require(bool ok, string what)
    {
        if (!ok) throw new ArgumentException($"CUDA backend: {what}");
    }

    public void Unary(UnaryOp op, ArrayView<float> x, ArrayView<float> y)
    {
        Require(y.Length >= x.Length, "unary output shorter than its input.");
        _unary((int)x.Length, x, y, (int)op);
    }

    public void UnaryBackward(UnaryOp op, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx)
    {
        Require(dy.Length >= x.Length && dx.Length >= x.Length, "unary backward buffers shorter than x.");
        _unaryBackward((int)x.Length, x, dy, dx, (int)op);
    }

    /// <summary>y = a op b over the output shape in <paramref name="g"/>.</summary>
    public void Binary(BinaryOp op, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, Broadcast4 g)
    {
        long n = (long)g.D0 * g.D1 * g.D2 * g.D3;
        Require(n > 0 && y.Length >= n, "binary output shape is empty or longer than its buffer.");
        _binary((int)n, a, b, y, g, (int)op);
    }

    /// <summary>Every element of the source view of x to the destination view of y (g says both).</summary>
    public void Copy(ArrayView<float> x, ArrayView<float> y, Copy8 g)
    {
        long n = (long)g.D0 * g.D1 * g.D2 * g.D3 * g.D4 * g.D5 * g.D6 * g.D7;
        if (n > 0) _copy((int)n, x, y, g);
    }

    /// <summary>One sample's columns [C*KD*KH*KW, OD*OH*OW].</summary>
    public void Im2Col(ArrayView<float> x, ArrayView<float> cols, ConvShape g)
    {
        long n = (long)g.C * g.KD * g.KH * g.KW * g.OD * g.OH * g.OW;
        Require(cols.Length >= n, "im2col buffer too short.");
        _im2col((int)n, x, cols, g);
    }

    /// <summary>One sample's image [C, D, H, W] summed from its columns.</summary>
    public void Col2Im(ArrayView<float> cols, ArrayView<float> image, ConvShape g) =>
        _col2im(g.C * g.D * g.H * g.W, cols, image, g);

    /// <summary>Average pooling, kernel = stride, of [C, D, H, W] (C counting every sample's channels).</summary>
    public void AvgPool(ArrayView<float> x, ArrayView<float> y, ConvShape g) =>
        _avgPool(g.C * g.OD * g.OH * g.OW, x, y, g);

    /// <summary>Layer norm over the last dimension of [rows, cols].</summary>
    public void LayerNorm(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y,
        int rows, int cols, float eps) =>
        _layerNorm(new KernelConfig(rows, GroupFor(cols)), x, gamma, beta, y, cols, eps);

    public void Affine(ArrayView<float> x, ArrayView<float> y, float a, float b) => _affine((int)x.Length, x, y, a, b);

    /// <summary>Every element of y set to <paramref name="value"/>.</summary>
    public void Fill(ArrayView<float> y, float value)
    {
        if (y.Length > 0) _fill((int)y.Length, y, value);
    }

    /// <summary>dTable[ids[t], :] += dy[t, :] (atomic adds; dTable holds what it is added to).</summary>
    public void EmbeddingBackward(ArrayView<int> ids, ArrayView<float> dy, ArrayView<float> dTable, int dim)
    {
        if (ids.Length > 0) _embeddingBackward((int)(ids.Length * dim), ids, dy, dTable, dim);
    }

    /// <summary>Layer norm's dx over the last dimension of [rows, cols] (statistics recomputed).</summary>
    public void LayerNormBackward(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> gamma,
        ArrayView<float> dx, int rows, int cols, float eps) =>
        _layerNormBackward(new KernelConfig(rows, GroupFor(cols)), x, dy, gamma, dx, cols, eps);

    /// <summary>
    /// Attention's backward from the forward's log-sum-exp and delta = rowsum(dO * O): dq (and the score gradient
    /// into dBias, [B*H, Lq, Lk], when <paramref name="biasGrad"/>), then dk and dv.
    /// </summary>
    public void AttentionBackward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> bias,
        ArrayView<float> mask, ArrayView<float> dO, ArrayView<float> lse, ArrayView<float> delta,
        ArrayView<float> dq, ArrayView<float> dk, ArrayView<float> dv, ArrayView<float> dBias, bool biasGrad,
        AttentionShape s)
    {
        Require(s.D <= AttentionKernels.MaxHeadDim && s.Dv <= AttentionKernels.MaxHeadDim,
            $"head size {Math.Max(s.D, s.Dv)} is above {AttentionKernels.MaxHeadDim}.");
        int bq = AttentionKernels.BlockQ;
        _attentionBackwardQuery(new KernelConfig(new Index2D((s.Lq + bq - 1) / bq, s.B * s.H), new Index2D(bq, 1)),
            q, k, v, bias, mask, dO, lse, delta, dq, dBias, s, biasGrad ? 1 : 0);
        _attentionBackwardKey(new KernelConfig(new Index2D((s.Lk + bq - 1) / bq, s.B * s.H), new Index2D(bq, 1)),
            q, k, v, bias, mask, dO, lse, delta, dk, dv, s);
    }

    public void AdamW(ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, AdamWStep s)
    {
        Require(g.Length == p.Length && m.Length == p.Length && v.Length == p.Length,
            "AdamW buffers differ in length.");
        _adamW((int)p.Length, p, g, m, v, s);
    }

    public void Embedding(ArrayView<int> ids, ArrayView<float> table, ArrayView<float> y, int dim) =>
        _embedding((int)(ids.Length * dim), ids, table, y, dim);

    public void SumRows(ArrayView<float> x, ArrayView<float> y, int rows, int cols) =>
        _sumRows(new KernelConfig(rows, GroupFor(cols)), x, y, cols);

    public void Softmax(ArrayView<float> x, ArrayView<float> y, int rows, int cols) =>
        _softmax(new KernelConfig(rows, GroupFor(cols)), x, y, cols);

    public void SoftmaxBackward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int rows, int cols) =>
        _softmaxBackward(new KernelConfig(rows, GroupFor(cols)), y, dy, dx, cols);

    /// <summary>Group norm (and SiLU when <paramref name="silu"/>) of x [n, channels, spatial]; mean and rstd get
    /// n x groups values.</summary>
    public void GroupNorm(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y,
        ArrayView<float> mean, ArrayView<float> rstd, int n, int channels, int spatial, int groups, float eps,
        bool silu)
    {
        Require(channels % groups == 0, $"{channels} channels are not divisible by {groups} groups.");
        _groupNorm(new KernelConfig(n * groups, GroupFor(channels / groups * spatial)), x, gamma, beta, y, mean, rstd,
            channels, spatial, groups, eps, silu ? 1 : 0);
    }

    /// <summary>Group norm's backward: dx, and per-sample parameter gradients [n, channels] to be summed over
    /// n.</summary>
    public void GroupNormBackward(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> gamma,
        ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dx, ArrayView<float> dGammaPart,
        ArrayView<float> dBetaPart, int n, int channels, int spatial, int groups) =>
        _groupNormBackward(new KernelConfig(n * groups, GroupFor(channels / groups * spatial)), x, dy, gamma, mean,
            rstd, dx, dGammaPart, dBetaPart, channels, spatial, groups);

    /// <summary>C = alpha op(A) op(B) + beta C, row-major, by the tiled kernel.</summary>
    public void Gemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s)
    {
        Require(a.Length >= (long)s.M * s.K && b.Length >= (long)s.K * s.N && c.Length >= (long)s.M * s.N,
            $"GEMM buffers too short for {s.M}x{s.K} by {s.K}x{s.N}.");
        int t = GemmKernels.Tile;
        _gemm(new KernelConfig(new Index2D((s.N + t - 1) / t, (s.M + t - 1) / t), new Index2D(t, t)), a, b, c, s);
    }

    /// <summary>C = alpha op(A) op(B) + beta C by one thread per element (the CPU accelerator's GEMM).</summary>
    public void GemmDirect(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s)
    {
        Require(a.Length >= (long)s.M * s.K && b.Length >= (long)s.K * s.N && c.Length >= (long)s.M * s.N,
            $"GEMM buffers too short for {s.M}x{s.K} by {s.K}x{s.N}.");
        if (s.M > 0 && s.N > 0) _gemmDirect(new Index2D(s.N, s.M), a, b, c, s);
    }

    /// <summary>Flash-style attention forward; <paramref name="bias"/> and <paramref name="mask"/> are ignored unless
    /// the shape says they are present (pass any one-element buffer otherwise).</summary>
    public void Attention(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> bias,
        ArrayView<float> mask, ArrayView<float> o, ArrayView<float> lse, AttentionShape s)
    {
        Require(s.D <= AttentionKernels.MaxHeadDim && s.Dv <= AttentionKernels.MaxHeadDim,
            $"head size {Math.Max(s.D, s.Dv)} is above {AttentionKernels.MaxHeadDim}.");
        int bq = AttentionKernels.BlockQ;
        _attention(new KernelConfig(new Index2D((s.Lq + bq - 1) / bq, s.B * s.H), new Index2D(bq, 1)), q, k, v, bias,
            mask, o, lse, s);
    }
}
