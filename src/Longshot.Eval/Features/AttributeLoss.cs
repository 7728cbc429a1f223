using Longshot.Tensors;

namespace Longshot.Eval.Features;

/// <summary>Losses and decisions of the attribute heads: softmax groups (one choice) and sigmoid groups (any
/// number).</summary>
public static class AttributeLoss
{
    /// <summary>
    /// Mean over rows of the cross-entropy of each choice group plus the binary cross-entropy of each presence logit.
    /// <paramref name="logits"/> and <paramref name="targets"/> are [N, K]; groups are (offset, size) column ranges.
    /// </summary>
    public static Tensor Compute(Tensor logits, Tensor targets, IEnumerable<(int At, int Size)> choice,
        IEnumerable<(int At, int Size)> presence)
    {
        int n = logits.Shape[0];
        Tensor? total = null;
        foreach (var (at, size) in choice)
        {
            var lp = Ops.LogSoftmax(logits.Narrow(1, at, size).Contiguous(), 1);
            var ce = Ops.Neg(Ops.Sum(lp * targets.Narrow(1, at, size).Contiguous())) * (1f / n);
            total = total == null ? ce : total + ce;
        }
        foreach (var (at, size) in presence)
        {
            // BCE with logits, stably: log sigma(x) = log_softmax([0, x])[1], so BCE = (1 - y) x - log sigma(x).
            var x = logits.Narrow(1, at, size).Contiguous();
            var y = targets.Narrow(1, at, size).Contiguous();
            var logSig = Ops.LogSoftmax(Ops.Stack(new[] { Tensor.Zeros(x.Shape), x }, 2), 2).Narrow(2, 1, 1).Squeeze(2);
            var bce = Ops.Sum((Ops.AddScalar(Ops.Neg(y), 1f) * x) - logSig) * (1f / n);
            total = total == null ? bce : total + bce;
        }
        return total ?? throw new LongshotException("attribute loss: no groups.");
    }

    /// <summary>Decisions [K] for one row of logits: argmax one-hot per choice group, logit &gt; 0 per
    /// presence.</summary>
    public static bool[] Decide(ReadOnlySpan<float> logits, IEnumerable<(int At, int Size)> choice,
        IEnumerable<(int At, int Size)> presence)
    {
        var d = new bool[logits.Length];
        foreach (var (at, size) in choice)
        {
            int best = at;
            for (int i = at + 1; i < at + size; i++) if (logits[i] > logits[best]) best = i;
            d[best] = true;
        }
        foreach (var (at, size) in presence)
            for (int i = at; i < at + size; i++) d[i] = logits[i] > 0;
        return d;
    }
}
