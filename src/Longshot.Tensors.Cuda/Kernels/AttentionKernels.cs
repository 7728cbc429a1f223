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
}
