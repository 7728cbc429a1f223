using System.Numerics.Tensors;
using Longshot.Tensors.Autograd;

namespace Longshot.Tensors;

public static partial class Ops
{
    /// <summary>Rows of <paramref name="weight"/> [V, D] picked by ids; the result has shape [..idShape, D].</summary>
    public static Tensor Embedding(Tensor weight, int[] ids, params int[] idShape)
    {
        if (weight.Rank != 2)
            throw new ArgumentException($"Embedding: weight must be [V, D], got {ShapeUtil.Str(weight.Shape)}.");
        if (idShape.Length == 0) idShape = new[] { ids.Length };
        if (ShapeUtil.Numel(idShape) != ids.Length)
            throw new ArgumentException($"Embedding: {ids.Length} ids cannot have shape {ShapeUtil.Str(idShape)}.");
        int v = weight.Shape[0], d = weight.Shape[1];
        for (int i = 0; i < ids.Length; i++)
            if ((uint)ids[i] >= (uint)v)
                throw new ArgumentException($"Embedding: id {ids[i]} at position {i} is outside the table of {v} " +
                $"rows.");
        if (Devices.DeviceOps.Backend("Embedding", weight) is { } be)
            return Graph.Record(Devices.DeviceOps.Embedding(be, weight, ids, idShape.Append(d).ToArray()),
                new EmbeddingOp(ids), weight);
        var w = weight.Contiguous();
        var y = Tensor.Empty(idShape.Append(d).ToArray());
        for (int i = 0; i < ids.Length; i++) Array.Copy(w.Storage, w.Offset + ids[i] * d, y.Storage, i * d, d);
        return Graph.Record(y, new EmbeddingOp(ids), weight);
    }

    /// <summary>Inverted dropout: zeroes elements with probability p and scales the rest by 1/(1-p). Identity when not
    /// training.</summary>
    public static Tensor Dropout(Tensor x, float p, Rng rng, bool training = true)
    {
        if (p < 0 || p >= 1) throw new ArgumentException($"Dropout: probability {p} must be in [0, 1).");
        if (!training || p == 0) return x;
        var mask = new float[x.Numel];
        rng.FillUniform(mask, 0f, 1f);
        float keep = 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++) mask[i] = mask[i] >= p ? keep : 0f;
        var xc = x.Contiguous();
        var y = Tensor.Empty(x.Shape);
        TensorPrimitives.Multiply(xc.Span, mask, y.Storage);
        return Graph.Record(y, new DropoutOp(mask), x);
    }

    /// <summary>Mean squared error, mean over all elements.</summary>
    public static Tensor MseLoss(Tensor prediction, Tensor target)
    {
        ShapeUtil.CheckSame("MseLoss", prediction.Shape, target.Shape);
        // On a device: composed of device ops (their rules give the gradient).
        if (Devices.DeviceOps.Backend("MseLoss", prediction, target) != null)
            return MulScalar(Sum(Square(Sub(prediction, target))), 1f / Math.Max(1, prediction.Numel));
        var a = prediction.Contiguous(); var b = target.Contiguous();
        double acc = 0;
        var sa = a.Span; var sb = b.Span;
        const int chunk = 4096;
        var diff = new float[Math.Min(chunk, sa.Length)];
        for (int i = 0; i < sa.Length; i += chunk)
        {
            int len = Math.Min(chunk, sa.Length - i);
            var dsp = diff.AsSpan(0, len);
            TensorPrimitives.Subtract(sa.Slice(i, len), sb.Slice(i, len), dsp);
            acc += TensorPrimitives.SumOfSquares(dsp);
        }
        var y = Tensor.Scalar((float)(acc / Math.Max(1, sa.Length)));
        return Graph.Record(y, OpKind.MseLoss, prediction, target);
    }

    /// <summary>
    /// KL(N(mean, exp(logvar)) || N(mean2, exp(logvar2))) summed over all elements, for diagonal Gaussians;
    /// against the standard normal when the second distribution is omitted (the VAE's KL term).
    /// </summary>
    public static Tensor GaussianKl(Tensor mean, Tensor logVar, Tensor? mean2 = null, Tensor? logVar2 = null)
    {
        if (mean2 == null || logVar2 == null)
            return MulScalar(Sum(Sub(Add(Square(mean), Exp(logVar)), AddScalar(logVar, 1f))), 0.5f);
        // 0.5 * (lv2 - lv1 + (exp(lv1) + (m1 - m2)^2) / exp(lv2) - 1)
        var t = Div(Add(Exp(logVar), Square(Sub(mean, mean2))), Exp(logVar2));
        return MulScalar(Sum(AddScalar(Add(Sub(logVar2, logVar), t), -1f)), 0.5f);
    }

    /// <summary>The values rounded to the nearest bfloat16 (as float32); the gradient passes unchanged.</summary>
    public static unsafe Tensor RoundBf16(Tensor x)
    {
        var y = new Tensor(x.ToArray(), (int[])x.Shape.Clone());
        fixed (float* p = y.Storage) Kernels.Bf16.Round(p, y.Numel);
        return Graph.Record(y, OpKind.RoundBf16, x);
    }
}
