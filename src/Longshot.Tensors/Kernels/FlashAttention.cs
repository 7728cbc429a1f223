using System.Numerics.Tensors;

namespace Longshot.Tensors.Kernels;

/// <summary>
/// Memory-efficient attention: query blocks x key blocks with an online softmax, so no
/// Lq x Lk matrix is ever held. The backward pass recomputes each block's probabilities
/// from the saved log-sum-exp. Products inside a block are GEMMs. Heads (or query blocks) are split across
/// cores, each running the built-in single-threaded GEMM: the blocks are too small for a threaded BLAS.
/// </summary>
internal static unsafe class FlashAttention
{
    public const int BlockQ = 128, BlockK = 256;

    [ThreadStatic] private static float[]? _scores, _max, _sum, _scoreGrads, _delta;

    /// <summary>An additive term broadcast to [B, H, Lq, Lk] through strides (bias, or a 0/1 mask).</summary>
    internal sealed record Extra(float[] Data, int Offset, int[] Strides);

    internal sealed record Ctx(int B, int H, int Lq, int Lk, int D, int Dv, float Scale, float[] Lse, Extra? Bias,
        Extra? Mask);

    public static Extra? MakeExtra(Tensor? t, int b, int h, int lq, int lk)
    {
        if (t == null) return null;
        var shape = new[] { b, h, lq, lk };
        ShapeUtil.Broadcast("Attention", t.Shape, shape);
        if (t.Rank > 4)
            throw new ArgumentException($"Attention: bias/mask {ShapeUtil.Str(t.Shape)} has more than 4 dimensions.");
        var full = ShapeUtil.Broadcast("Attention", t.Shape, shape);
        if (!full.AsSpan().SequenceEqual(shape))
            throw new ArgumentException($"Attention: bias/mask {ShapeUtil.Str(t.Shape)} does not broadcast to " +
            $"{ShapeUtil.Str(shape)}.");
        return new Extra(t.Storage, t.Offset, Elementwise.BroadcastStrides(t, shape));
    }

    /// <summary>[B, H, L, D] elements with unit stride along D: element (b, h, i, d) at Offset + b * BatchStride +
    /// h * HeadStride + i * RowStride + d. Heads split from a [B, L, H * D] projection are read where they lie.
    /// </summary>
    internal readonly record struct Rows(float[] Data, int Offset, int BatchStride, int HeadStride, int RowStride)
    {
        /// <summary>A [B, H, L, D] tensor's rows; its last dimension must have unit stride (or size 1).</summary>
        public static Rows Of(Tensor t)
        {
            if (t.Rank != 4 || (t.Strides[3] != 1 && t.Shape[3] != 1))
                throw new ArgumentException("Attention: rows need a [B, H, L, D] tensor with unit stride along D.");
            return new Rows(t.Storage, t.Offset, t.Strides[0], t.Strides[1], t.Strides[2]);
        }

        /// <summary>Where row i of head h of batch b starts.</summary>
        public long At(int b, int h, int i) =>
            Offset + (long)b * BatchStride + (long)h * HeadStride + (long)i * RowStride;
    }

    /// <summary>q, k, v contiguous [B*H, L, D]; writes output [B*H, Lq, Dv] and returns the log-sum-exp per query.
    /// </summary>
    public static float[] Forward(Tensor q, Tensor k, Tensor v, Ctx c, float[] output) =>
        Forward(Rows.Of(q), Rows.Of(k), Rows.Of(v), c,
            new Rows(output, 0, c.H * c.Lq * c.Dv, c.Lq * c.Dv, c.Dv));

    /// <summary>Attention over rows laid out as <see cref="Rows"/> says, the output written the same way; returns
    /// the log-sum-exp per query ([B*H, Lq]).</summary>
    public static float[] Forward(Rows q, Rows k, Rows v, Ctx c, Rows output)
    {
        int bh = c.B * c.H, qBlocks = (c.Lq + BlockQ - 1) / BlockQ;
        var lse = c.Lse;
        int units = bh * qBlocks;
        bool outer = units >= Threads.Count;
        int ldq = q.RowStride, ldk = k.RowStride, ldv = v.RowStride, ldo = output.RowStride;
        Threads.For(units, outer ? 1 : units, (u0, u1) =>
        {
            // Scratch sized to the actual blocks and reused per thread: a fresh zeroed 128 KB array per call cost as
            // much as the attention itself for the many short temporal sequences.
            var s = ThreadScratch.Get(ref _scores, Math.Min(BlockQ, c.Lq) * Math.Min(BlockK, c.Lk));
            var m = ThreadScratch.Get(ref _max, BlockQ); var l = ThreadScratch.Get(ref _sum, BlockQ);
            fixed (float* pq = q.Data, pk = k.Data, pv = v.Data, po = output.Data, ps = s)
            {
                for (int u = u0; u < u1; u++)
                {
                    int bhi = u / qBlocks, i0 = (u % qBlocks) * BlockQ, bq = Math.Min(BlockQ, c.Lq - i0);
                    int b = bhi / c.H, h = bhi % c.H;
                    float* qb = pq + q.At(b, h, i0);
                    float* ob = po + output.At(b, h, i0);
                    for (int i = 0; i < bq; i++) new Span<float>(ob + (long)i * ldo, c.Dv).Clear();
                    Array.Fill(m, float.NegativeInfinity); Array.Clear(l);
                    for (int j0 = 0; j0 < c.Lk; j0 += BlockK)
                    {
                        int bk = Math.Min(BlockK, c.Lk - j0);
                        float* kb = pk + k.At(b, h, j0);
                        float* vb = pv + v.At(b, h, j0);
                        Gemm.Sgemm(false, true, bq, bk, c.D, c.Scale, qb, ldq, kb, ldk, 0f, ps, bk, parallel: !outer);
                        AddExtras(c, bhi, i0, bq, j0, bk, s);
                        for (int i = 0; i < bq; i++)
                        {
                            var row = s.AsSpan(i * bk, bk);
                            float mNew = Math.Max(m[i], TensorPrimitives.Max(row));
                            if (float.IsNegativeInfinity(mNew)) { row.Clear(); continue; }
                            float corr = MathF.Exp(m[i] - mNew);
                            l[i] = l[i] * corr + FastMath.ExpShiftSum(row, mNew, row);
                            m[i] = mNew;
                            if (corr != 1f)
                            {
                                var orow = new Span<float>(ob + (long)i * ldo, c.Dv);
                                TensorPrimitives.Multiply(orow, corr, orow);
                            }
                        }
                        Gemm.Sgemm(false, false, bq, c.Dv, bk, 1f, ps, bk, vb, ldv, 1f, ob, ldo, parallel: !outer);
                    }
                    for (int i = 0; i < bq; i++)
                    {
                        var orow = new Span<float>(ob + (long)i * ldo, c.Dv);
                        if (l[i] > 0) TensorPrimitives.Multiply(orow, 1f / l[i], orow);
                        lse[bhi * c.Lq + i0 + i] = l[i] > 0 ? m[i] + MathF.Log(l[i]) : float.NegativeInfinity;
                    }
                }
            }
        });
        return lse;
    }

    private static void AddExtras(Ctx c, int bhi, int i0, int bq, int j0, int bk, float[] s)
    {
        int b = bhi / c.H, h = bhi % c.H;
        if (c.Bias is { } bias)
        {
            var st = bias.Strides;
            for (int i = 0; i < bq; i++)
            {
                int p = bias.Offset + b * st[0] + h * st[1] + (i0 + i) * st[2] + j0 * st[3];
                var row = s.AsSpan(i * bk, bk);
                if (st[3] == 1) TensorPrimitives.Add(row, bias.Data.AsSpan(p, bk), row);
                else for (int j = 0; j < bk; j++) row[j] += bias.Data[p + j * st[3]];
            }
        }
        if (c.Mask is { } mask)
        {
            var st = mask.Strides;
            for (int i = 0; i < bq; i++)
            {
                int p = mask.Offset + b * st[0] + h * st[1] + (i0 + i) * st[2] + j0 * st[3];
                for (int j = 0; j < bk; j++)
                    if (mask.Data[p + j * st[3]] == 0f) s[i * bk + j] = float.NegativeInfinity;
            }
        }
    }

    /// <summary>Gradients for q, k, v (contiguous [B*H, L, D]) and, when asked, the full [B, H, Lq, Lk] bias
    /// gradient.</summary>
    public static void Backward(Tensor q, Tensor k, Tensor v, float[] o, Tensor dO, Ctx c,
        float[] dq, float[] dk, float[] dv, float[]? dBias)
    {
        int bh = c.B * c.H;
        bool outer = bh >= Threads.Count;
        Threads.For(bh, outer ? 1 : bh, (h0, h1) =>
        {
            var s = ThreadScratch.Get(ref _scores, Math.Min(BlockQ, c.Lq) * Math.Min(BlockK, c.Lk));
            var dp = ThreadScratch.Get(ref _scoreGrads, Math.Min(BlockQ, c.Lq) * Math.Min(BlockK, c.Lk));
            var delta = ThreadScratch.Get(ref _delta, c.Lq);
            fixed (float* pq = q.Storage, pk = k.Storage, pv = v.Storage, pdo = dO.Storage, pdq = dq, pdk = dk,
                pdv = dv, ps = s, pdp = dp)
            {
                for (int bhi = h0; bhi < h1; bhi++)
                {
                    float* qh = pq + q.Offset + (long)bhi * c.Lq * c.D;
                    float* kh = pk + k.Offset + (long)bhi * c.Lk * c.D;
                    float* vh = pv + v.Offset + (long)bhi * c.Lk * c.Dv;
                    float* doh = pdo + dO.Offset + (long)bhi * c.Lq * c.Dv;
                    for (int i = 0; i < c.Lq; i++)
                        delta[i] = TensorPrimitives.Dot(new ReadOnlySpan<float>(doh + (long)i * c.Dv, c.Dv),
                            o.AsSpan((bhi * c.Lq + i) * c.Dv, c.Dv));
                    for (int i0 = 0; i0 < c.Lq; i0 += BlockQ)
                    {
                        int bq = Math.Min(BlockQ, c.Lq - i0);
                        for (int j0 = 0; j0 < c.Lk; j0 += BlockK)
                        {
                            int bk = Math.Min(BlockK, c.Lk - j0);
                            Gemm.Sgemm(false, true, bq, bk, c.D, c.Scale, qh + (long)i0 * c.D, c.D,
                                kh + (long)j0 * c.D, c.D, 0f, ps, bk, parallel: !outer);
                            AddExtras(c, bhi, i0, bq, j0, bk, s);
                            for (int i = 0; i < bq; i++)
                            {
                                var row = s.AsSpan(i * bk, bk);
                                float l = c.Lse[bhi * c.Lq + i0 + i];
                                if (float.IsNegativeInfinity(l)) { row.Clear(); continue; }
                                FastMath.ExpShiftSum(row, l, row);
                            }
                            // dV += P^T dO
                            Gemm.Sgemm(true, false, bk, c.Dv, bq, 1f, ps, bk, doh + (long)i0 * c.Dv, c.Dv, 1f,
                                pdv + ((long)bhi * c.Lk + j0) * c.Dv, c.Dv, parallel: !outer);
                            // dP = dO V^T
                            Gemm.Sgemm(false, true, bq, bk, c.Dv, 1f, doh + (long)i0 * c.Dv, c.Dv,
                                vh + (long)j0 * c.Dv, c.Dv, 0f, pdp, bk, parallel: !outer);
                            // dS = P * (dP - delta)
                            for (int i = 0; i < bq; i++)
                            {
                                var prow = s.AsSpan(i * bk, bk); var drow = dp.AsSpan(i * bk, bk);
                                TensorPrimitives.Subtract(drow, delta[i0 + i], drow);
                                TensorPrimitives.Multiply(drow, prow, drow);
                            }
                            if (dBias != null)
                                for (int i = 0; i < bq; i++)
                                    dp.AsSpan(i * bk, bk).CopyTo(dBias.AsSpan(((bhi * c.Lq) + i0 + i) * c.Lk + j0, bk));
                            // dQ += dS K * scale; dK += dS^T Q * scale
                            Gemm.Sgemm(false, false, bq, c.D, bk, c.Scale, pdp, bk, kh + (long)j0 * c.D, c.D, 1f,
                                pdq + ((long)bhi * c.Lq + i0) * c.D, c.D, parallel: !outer);
                            Gemm.Sgemm(true, false, bk, c.D, bq, c.Scale, pdp, bk, qh + (long)i0 * c.D, c.D, 1f,
                                pdk + ((long)bhi * c.Lk + j0) * c.D, c.D, parallel: !outer);
                        }
                    }
                }
            }
        });
    }
}
