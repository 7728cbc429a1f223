using Longshot.Tensors.Autograd;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors;

public static partial class Ops
{
    /// <summary>
    /// softmax(q k^T * scale + bias, masked) v, fused and memory-efficient.
    /// q: [B, H, Lq, D], k: [B, H, Lk, D], v: [B, H, Lk, Dv]. <paramref name="bias"/> is added to the logits and
    /// <paramref name="mask"/> (1 = attend, 0 = blocked) removes keys; both broadcast to [B, H, Lq, Lk].
    /// A query whose keys are all blocked outputs zeros. The bias may require a gradient; the mask may not.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor? mask = null,
        Tensor? bias = null, float? scale = null)
    {
        if (q.Rank != 4 || k.Rank != 4 || v.Rank != 4)
            throw new ArgumentException($"Attention: q, k, v must be [B, H, L, D]; got {ShapeUtil.Str(q.Shape)}, " +
                $"{ShapeUtil.Str(k.Shape)}, {ShapeUtil.Str(v.Shape)}.");
        int b = q.Shape[0], h = q.Shape[1], lq = q.Shape[2], d = q.Shape[3], lk = k.Shape[2], dv = v.Shape[3];
        if (k.Shape[0] != b || k.Shape[1] != h || k.Shape[3] != d || v.Shape[0] != b || v.Shape[1] != h
            || v.Shape[2] != lk)
            throw new ArgumentException($"Attention: shapes q {ShapeUtil.Str(q.Shape)}, k {ShapeUtil.Str(k.Shape)}, " +
                $"v {ShapeUtil.Str(v.Shape)} do not agree.");
        if (mask != null && mask.RequiresGrad)
            throw new ArgumentException("Attention: the mask cannot require a gradient.");
        float s = scale ?? 1f / MathF.Sqrt(d);
        if (Devices.DeviceOps.Backend("Attention", q, k, v, mask, bias) is { } be)
        {
            bool record = bias != null ? Graph.Needed(q, k, v, bias) : Graph.Needed(q, k, v);
            var lse = record ? Devices.DeviceOps.Empty(be, b, h, lq) : null;
            var yd = Devices.DeviceOps.Attention(be, q, k, v, mask, bias, s, lse);
            var dctx = record ? new Devices.DeviceOps.AttentionCtx(lse!, mask, s) : null;
            var op = new AttentionOp(null, dctx);
            return bias != null ? Graph.Record(yd, op, q, k, v, bias) : Graph.Record(yd, op, q, k, v);
        }
        q = MixedPrecision.Input(q); k = MixedPrecision.Input(k); v = MixedPrecision.Input(v);
        var ctx = new FlashAttention.Ctx(b, h, lq, lk, d, dv, s, new float[b * h * lq],
            FlashAttention.MakeExtra(bias, b, h, lq, lk), FlashAttention.MakeExtra(mask, b, h, lq, lk));
        if (!(bias != null ? Graph.Needed(q, k, v, bias) : Graph.Needed(q, k, v)))
        {
            // Without a graph: heads are read where they lie (split from a [B, L, H * D] projection, no copies) and
            // the output is written as [B, Lq, H, Dv], so merging the heads back is a view.
            var merged = Tensor.Empty(b, lq, h, dv);
            var o = merged.Permute(0, 2, 1, 3);
            FlashAttention.Forward(FlashAttention.Rows.Of(UnitInner(q)), FlashAttention.Rows.Of(UnitInner(k)),
                FlashAttention.Rows.Of(UnitInner(v)), ctx, FlashAttention.Rows.Of(o));
            return o;
        }
        var qc = q.Contiguous().Detach(); var kc = k.Contiguous().Detach(); var vc = v.Contiguous().Detach();
        var y = Tensor.Empty(b, h, lq, dv);
        FlashAttention.Forward(qc, kc, vc, ctx, y.Storage);
        var hostOp = new AttentionOp(ctx, null);
        return bias != null ? Graph.Record(y, hostOp, q, k, v, bias) : Graph.Record(y, hostOp, q, k, v);
    }

    /// <summary>t itself when its last dimension has unit stride, else a contiguous copy.</summary>
    private static Tensor UnitInner(Tensor t) => t.Strides[^1] == 1 || t.Shape[^1] == 1 ? t : t.Contiguous();
}
