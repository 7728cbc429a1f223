using ILGPU;

namespace Longshot.Tensors.Cuda.Kernels;

/// <summary>
/// Geometry of one attention call: q [B*H, Lq, D], k [B*H, Lk, D], v [B*H, Lk, Dv], and an optional additive bias and
/// 0/1 mask broadcast to [B, H, Lq, Lk] through element strides (as the CPU kernel takes them).
/// </summary>
public struct AttentionShape
{
    public int B, H, Lq, Lk, D, Dv;
    public float Scale;
    public int HasBias, BiasB, BiasH, BiasQ, BiasK;
    public int HasMask, MaskB, MaskH, MaskQ, MaskK;
}

/// <summary>
/// Flash-style attention: each group of <see cref="BlockQ"/> threads owns BlockQ query rows (one per thread) of one
/// batch-head; keys and values pass through shared memory <see cref="BlockK"/> rows at a time, and each thread keeps a
/// running maximum, sum and output (online softmax), so the Lq x Lk scores are never stored. Writes the output and
/// each query's log-sum-exp (what the backward pass recomputes probabilities from).
/// </summary>
internal static class AttentionKernels
{
    public const int BlockQ = 32, BlockK = 16, MaxHeadDim = 128;

    public static void Forward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> bias,
        ArrayView<float> mask, ArrayView<float> o, ArrayView<float> lse, AttentionShape s)
    {
        var kt = SharedMemory.Allocate<float>(BlockK * MaxHeadDim);
        var vt = SharedMemory.Allocate<float>(BlockK * MaxHeadDim);
        var acc = LocalMemory.Allocate<float>(MaxHeadDim);
        var qr = LocalMemory.Allocate<float>(MaxHeadDim);
        int bh = Grid.IdxY, t = Group.IdxX, i = Grid.IdxX * BlockQ + t;
        int b = bh / s.H, h = bh % s.H;
        bool active = i < s.Lq;
        for (int d = 0; d < s.Dv; d++) acc[d] = 0f;
        for (int d = 0; d < s.D; d++) qr[d] = active ? q[(bh * s.Lq + i) * s.D + d] : 0f;
        float m = float.NegativeInfinity, l = 0f;
        for (int j0 = 0; j0 < s.Lk; j0 += BlockK)
        {
            for (int e = t; e < BlockK * s.D; e += BlockQ)
            {
                int r = e / s.D, d = e % s.D;
                kt[r * MaxHeadDim + d] = j0 + r < s.Lk ? k[(bh * s.Lk + j0 + r) * s.D + d] : 0f;
            }
            for (int e = t; e < BlockK * s.Dv; e += BlockQ)
            {
                int r = e / s.Dv, d = e % s.Dv;
                vt[r * MaxHeadDim + d] = j0 + r < s.Lk ? v[(bh * s.Lk + j0 + r) * s.Dv + d] : 0f;
            }
            Group.Barrier();
            int rows = s.Lk - j0 < BlockK ? s.Lk - j0 : BlockK;
            for (int r = 0; active && r < rows; r++)
            {
                int j = j0 + r;
                if (s.HasMask == 1 && mask[b * s.MaskB + h * s.MaskH + i * s.MaskQ + j * s.MaskK] == 0f) continue;
                float score = 0f;
                for (int d = 0; d < s.D; d++) score += qr[d] * kt[r * MaxHeadDim + d];
                score *= s.Scale;
                if (s.HasBias == 1) score += bias[b * s.BiasB + h * s.BiasH + i * s.BiasQ + j * s.BiasK];
                float mNew = score > m ? score : m;
                float corr = MathF.Exp(m - mNew), p = MathF.Exp(score - mNew);
                l = l * corr + p;
                for (int d = 0; d < s.Dv; d++) acc[d] = acc[d] * corr + p * vt[r * MaxHeadDim + d];
                m = mNew;
            }
            Group.Barrier();
        }
        if (!active) return;
        float inv = l > 0 ? 1f / l : 0f;
        for (int d = 0; d < s.Dv; d++) o[(bh * s.Lq + i) * s.Dv + d] = acc[d] * inv;
        lse[bh * s.Lq + i] = l > 0 ? m + MathF.Log(l) : float.NegativeInfinity;
    }

    /// <summary>The score of query i and key j with the bias added; false when the mask blocks the pair.</summary>
    private static bool Score(ArrayView<float> bias, ArrayView<float> mask, AttentionShape s, int b, int h, int i,
        int j, float dot, out float score)
    {
        score = dot * s.Scale;
        if (s.HasMask == 1 && mask[b * s.MaskB + h * s.MaskH + i * s.MaskQ + j * s.MaskK] == 0f) return false;
        if (s.HasBias == 1) score += bias[b * s.BiasB + h * s.BiasH + i * s.BiasQ + j * s.BiasK];
        return true;
    }

    /// <summary>
    /// Backward for the queries (and the bias), one thread per query row as in the forward pass: with the forward's
    /// log-sum-exp the probabilities are recomputed tile by tile, p = exp(s - lse), and with
    /// delta_i = sum(dO_i O_i), dS = p (dO_i v_j - delta_i); dq = scale sum_j dS k_j. When
    /// <paramref name="biasGrad"/> is 1, dS is written to the full [B*H, Lq, Lk] buffer dBias (0 where masked).
    /// </summary>
    public static void BackwardQuery(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> bias, ArrayView<float> mask, ArrayView<float> dO, ArrayView<float> lse,
        ArrayView<float> delta, ArrayView<float> dq, ArrayView<float> dBias, AttentionShape s, int biasGrad)
    {
        var kt = SharedMemory.Allocate<float>(BlockK * MaxHeadDim);
        var vt = SharedMemory.Allocate<float>(BlockK * MaxHeadDim);
        var qr = LocalMemory.Allocate<float>(MaxHeadDim);
        var gr = LocalMemory.Allocate<float>(MaxHeadDim);
        var acc = LocalMemory.Allocate<float>(MaxHeadDim);
        int bh = Grid.IdxY, t = Group.IdxX, i = Grid.IdxX * BlockQ + t;
        int b = bh / s.H, h = bh % s.H;
        bool active = i < s.Lq;
        LoadRow(q, qr, bh * s.Lq + i, s.D, active);
        LoadRow(dO, gr, bh * s.Lq + i, s.Dv, active);
        LoadRow(q, acc, 0, s.D, false);
        float l = active ? lse[bh * s.Lq + i] : 0f, di = active ? delta[bh * s.Lq + i] : 0f;
        for (int j0 = 0; j0 < s.Lk; j0 += BlockK)
        {
            LoadTile(k, kt, bh * s.Lk, j0, s.Lk, s.D, t);
            LoadTile(v, vt, bh * s.Lk, j0, s.Lk, s.Dv, t);
            Group.Barrier();
            int rows = s.Lk - j0 < BlockK ? s.Lk - j0 : BlockK;
            for (int r = 0; active && r < rows; r++)
            {
                int j = j0 + r;
                float dot = 0f, dp = 0f;
                for (int d = 0; d < s.D; d++) dot += qr[d] * kt[r * MaxHeadDim + d];
                float ds = 0f;
                if (Score(bias, mask, s, b, h, i, j, dot, out float score))
                {
                    for (int d = 0; d < s.Dv; d++) dp += gr[d] * vt[r * MaxHeadDim + d];
                    ds = MathF.Exp(score - l) * (dp - di);
                    for (int d = 0; d < s.D; d++) acc[d] += ds * kt[r * MaxHeadDim + d];
                }
                if (biasGrad == 1) dBias[(bh * s.Lq + i) * s.Lk + j] = ds;
            }
            Group.Barrier();
        }
        if (!active) return;
        for (int d = 0; d < s.D; d++) dq[(bh * s.Lq + i) * s.D + d] = acc[d] * s.Scale;
    }

    /// <summary>
    /// Backward for the keys and values, one thread per key row: queries, their output gradients, log-sum-exps and
    /// deltas pass through shared memory <see cref="BlockK"/> rows at a time; dv_j = sum_i p dO_i and
    /// dk_j = scale sum_i dS q_i.
    /// </summary>
    public static void BackwardKey(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> bias, ArrayView<float> mask, ArrayView<float> dO, ArrayView<float> lse,
        ArrayView<float> delta, ArrayView<float> dk, ArrayView<float> dv, AttentionShape s)
    {
        var qt = SharedMemory.Allocate<float>(BlockK * MaxHeadDim);
        var gt = SharedMemory.Allocate<float>(BlockK * MaxHeadDim);
        var lt = SharedMemory.Allocate<float>(BlockK);
        var dt = SharedMemory.Allocate<float>(BlockK);
        var kr = LocalMemory.Allocate<float>(MaxHeadDim);
        var vr = LocalMemory.Allocate<float>(MaxHeadDim);
        var dkAcc = LocalMemory.Allocate<float>(MaxHeadDim);
        var dvAcc = LocalMemory.Allocate<float>(MaxHeadDim);
        int bh = Grid.IdxY, t = Group.IdxX, j = Grid.IdxX * BlockQ + t;
        int b = bh / s.H, h = bh % s.H;
        bool active = j < s.Lk;
        LoadRow(k, kr, bh * s.Lk + j, s.D, active);
        LoadRow(v, vr, bh * s.Lk + j, s.Dv, active);
        LoadRow(k, dkAcc, 0, s.D, false);
        LoadRow(v, dvAcc, 0, s.Dv, false);
        for (int i0 = 0; i0 < s.Lq; i0 += BlockK)
        {
            LoadTile(q, qt, bh * s.Lq, i0, s.Lq, s.D, t);
            LoadTile(dO, gt, bh * s.Lq, i0, s.Lq, s.Dv, t);
            if (t < BlockK)
            {
                lt[t] = i0 + t < s.Lq ? lse[bh * s.Lq + i0 + t] : 0f;
                dt[t] = i0 + t < s.Lq ? delta[bh * s.Lq + i0 + t] : 0f;
            }
            Group.Barrier();
            int rows = s.Lq - i0 < BlockK ? s.Lq - i0 : BlockK;
            for (int r = 0; active && r < rows; r++)
            {
                float dot = 0f, dp = 0f;
                for (int d = 0; d < s.D; d++) dot += qt[r * MaxHeadDim + d] * kr[d];
                if (!Score(bias, mask, s, b, h, i0 + r, j, dot, out float score)) continue;
                float p = MathF.Exp(score - lt[r]);
                for (int d = 0; d < s.Dv; d++)
                {
                    dp += gt[r * MaxHeadDim + d] * vr[d];
                    dvAcc[d] += p * gt[r * MaxHeadDim + d];
                }
                float ds = p * (dp - dt[r]);
                for (int d = 0; d < s.D; d++) dkAcc[d] += ds * qt[r * MaxHeadDim + d];
            }
            Group.Barrier();
        }
        if (!active) return;
        for (int d = 0; d < s.D; d++) dk[(bh * s.Lk + j) * s.D + d] = dkAcc[d] * s.Scale;
        for (int d = 0; d < s.Dv; d++) dv[(bh * s.Lk + j) * s.Dv + d] = dvAcc[d];
    }

    /// <summary>Row <paramref name="row"/> of a [rows, width] matrix into a thread's local array; zeros when not
    /// <paramref name="active"/> (a thread past the end, or an accumulator being cleared).</summary>
    private static void LoadRow(ArrayView<float> src, ArrayView<float> dst, int row, int width, bool active)
    {
        for (int d = 0; d < width; d++) dst[d] = active ? src[row * width + d] : 0f;
    }

    /// <summary>Rows [start, start + BlockK) of one batch-head's [rows, width] matrix into a shared tile (zeros past
    /// the end), the group's BlockQ threads striding over it.</summary>
    private static void LoadTile(ArrayView<float> src, ArrayView<float> tile, int rowBase, int start, int rows,
        int width, int t)
    {
        for (int e = t; e < BlockK * width; e += BlockQ)
        {
            int r = e / width, d = e % width;
            tile[r * MaxHeadDim + d] = start + r < rows ? src[(rowBase + start + r) * width + d] : 0f;
        }
    }
}
