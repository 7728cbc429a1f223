using System.Numerics.Tensors;

namespace Longshot.Tensors.Kernels;

/// <summary>
/// Group norm (optionally fused with the SiLU that follows) and layer norm. Statistics in one pass
/// (double accumulators); normalisation folded into a per-channel scale and shift.
/// </summary>
internal static class NormKernel
{
    internal sealed record GroupCtx(int Groups, float Eps, bool Silu, float[] Mean, float[] Rstd);

    /// <summary>x: [N, C, S] contiguous view; returns y and the saved statistics. With <paramref name="frames"/>
    /// above 1, x holds N / frames videos of that many frames ([B*F, C, S]) and each video's group takes its
    /// statistics over all its frames, as a group norm of [B, C, F, S] would, without moving the channels ahead of
    /// the frames and back.</summary>
    public static (Tensor Y, GroupCtx Ctx) GroupNormForward(Tensor x, int groups, Tensor? gamma, Tensor? beta,
        float eps, bool silu, int frames = 1)
    {
        int n = x.Shape[0], c = x.Shape[1], s = x.Numel / Math.Max(1, n * c), cpg = c / groups, videos = n / frames;
        var y = Tensor.Empty(x.Shape);
        var mean = new float[videos * groups]; var rstd = new float[videos * groups];
        var src = x.Storage; int off = x.Offset;
        var gm = gamma?.Contiguous().ToArray(); var bt = beta?.Contiguous().ToArray();
        Threads.For(videos * groups, 1, (a, b) =>
        {
            for (int vg = a; vg < b; vg++)
            {
                int v = vg / groups, g = vg % groups;
                long len = (long)frames * cpg * s;
                // Channel ch of frame f: x[v * frames + f, g * cpg + ch, :].
                int Slice(int f, int ch) => ((v * frames + f) * c + g * cpg + ch) * s;
                // Two passes (mean, then squares about it), each a vector sum per channel slice accumulated in
                // double: one pass of E[x^2] - E[x]^2 in float lost the variance when |mean| >> spread. The output
                // slices serve as scratch for the centred values; the affine below overwrites them.
                double sum = 0, sq = 0;
                for (int f = 0; f < frames; f++)
                    for (int ch = 0; ch < cpg; ch++) sum += TensorPrimitives.Sum(src.AsSpan(off + Slice(f, ch), s));
                double m = sum / len;
                for (int f = 0; f < frames; f++)
                    for (int ch = 0; ch < cpg; ch++)
                    {
                        var centred = y.Storage.AsSpan(Slice(f, ch), s);
                        TensorPrimitives.Subtract(src.AsSpan(off + Slice(f, ch), s), (float)m, centred);
                        sq += TensorPrimitives.SumOfSquares(centred);
                    }
                double rounding = m - (float)m, variance = Math.Max(0, sq / len - rounding * rounding);
                float r = (float)(1.0 / Math.Sqrt(variance + eps));
                mean[vg] = (float)m; rstd[vg] = r;
                for (int ch = 0; ch < cpg; ch++)
                {
                    int cc = g * cpg + ch;
                    float scale = r * (gm?[cc] ?? 1f);
                    float shift = (bt?[cc] ?? 0f) - (float)m * scale;
                    for (int f = 0; f < frames; f++)
                    {
                        var from = src.AsSpan(off + Slice(f, ch), s);
                        var dst = y.Storage.AsSpan(Slice(f, ch), s);
                        if (silu) FastMath.AffineSilu(from, scale, shift, dst);
                        else Elementwise.Affine(from, scale, shift, dst);
                    }
                }
            }
        });
        return (y, new GroupCtx(groups, eps, silu, mean, rstd));
    }

    /// <summary>Returns (dx, dgamma, dbeta) for group norm; dgamma/dbeta are null when gamma is null.</summary>
    public static (Tensor Dx, float[]? DGamma, float[]? DBeta) GroupNormBackward(Tensor x, Tensor dy, Tensor? gamma,
        Tensor? beta, GroupCtx ctx)
    {
        int n = x.Shape[0], c = x.Shape[1], s = x.Numel / Math.Max(1, n * c), groups = ctx.Groups, cpg = c / groups;
        var xc = x.Contiguous(); var g = dy.Contiguous();
        var gm = gamma?.Contiguous().ToArray(); var bt = beta?.Contiguous().ToArray();
        var dx = Tensor.Empty(x.Shape);
        var dgPer = new float[n * c]; var dbPer = new float[n * c];
        Threads.For(n * groups, 1, (a, b) =>
        {
            var dz = new float[s]; var xh = new float[s];
            var sumDz = new double[cpg]; var sumDzXh = new double[cpg];
            for (int ng = a; ng < b; ng++)
            {
                int i = ng / groups, grp = ng % groups;
                float m = ctx.Mean[ng], r = ctx.Rstd[ng];
                double a1 = 0, a2 = 0; // sums of dz*gamma and dz*gamma*xhat over the group
                for (int ch = 0; ch < cpg; ch++)
                {
                    int cc = grp * cpg + ch, baseIdx = (i * c + cc) * s;
                    float gam = gm?[cc] ?? 1f, bet = bt?[cc] ?? 0f;
                    var xs = xc.Storage.AsSpan(xc.Offset + baseIdx, s);
                    var gs = g.Storage.AsSpan(g.Offset + baseIdx, s);
                    TensorPrimitives.Subtract(xs, m, xh); TensorPrimitives.Multiply(xh, r, xh);
                    if (ctx.Silu)
                    {
                        // z = xhat * gamma + beta; dz = dy * silu'(z)
                        Elementwise.Affine(xh, gam, bet, dz);
                        Elementwise.SiluBackward(dz, gs, dz);
                    }
                    else gs.CopyTo(dz);
                    double sd = TensorPrimitives.Sum(dz), sdx = TensorPrimitives.Dot(dz, xh);
                    dgPer[i * c + cc] = (float)sdx; dbPer[i * c + cc] = (float)sd;
                    a1 += sd * gam; a2 += sdx * gam;
                    sumDz[ch] = sd; sumDzXh[ch] = sdx;
                    // Stash dz into dx for the second pass.
                    dz.CopyTo(dx.Storage.AsSpan(baseIdx, s));
                }
                int len = cpg * s;
                float ma1 = (float)(a1 / len), ma2 = (float)(a2 / len);
                for (int ch = 0; ch < cpg; ch++)
                {
                    int cc = grp * cpg + ch, baseIdx = (i * c + cc) * s;
                    float gam = gm?[cc] ?? 1f;
                    var d = dx.Storage.AsSpan(baseIdx, s);
                    var xs = xc.Storage.AsSpan(xc.Offset + baseIdx, s);
                    // dx = r * (dz*gam - ma1 - xhat*ma2), xhat = (x - m) * r
                    for (int j = 0; j < s; j++)
                    {
                        float xhat = (xs[j] - m) * r;
                        d[j] = r * (d[j] * gam - ma1 - xhat * ma2);
                    }
                }
            }
        });
        if (gamma == null) return (dx, null, null);
        var dgamma = new float[c]; var dbeta = new float[c];
        for (int i = 0; i < n; i++)
        {
            TensorPrimitives.Add(dgamma, dgPer.AsSpan(i * c, c), dgamma);
            TensorPrimitives.Add(dbeta, dbPer.AsSpan(i * c, c), dbeta);
        }
        return (dx, dgamma, dbeta);
    }

    internal sealed record LayerCtx(float Eps, float[] Mean, float[] Rstd);

    /// <summary>Layer norm over the last dimension.</summary>
    public static (Tensor Y, LayerCtx Ctx) LayerNormForward(Tensor x, Tensor? gamma, Tensor? beta, float eps)
    {
        int d = x.Shape[^1], rows = x.Numel / Math.Max(1, d);
        var xc = x.Contiguous();
        var y = Tensor.Empty(x.Shape);
        var mean = new float[rows]; var rstd = new float[rows];
        var gm = gamma?.Contiguous().ToArray(); var bt = beta?.Contiguous().ToArray();
        Threads.For(rows, Math.Max(1, 4096 / Math.Max(1, d)), (a, b) =>
        {
            for (int i = a; i < b; i++)
            {
                var row = xc.Storage.AsSpan(xc.Offset + i * d, d);
                // Two passes: the mean, then the squares of the centred row (see the group norm above).
                double m = TensorPrimitives.Sum(row) / (double)d;
                var dst = y.Storage.AsSpan(i * d, d);
                TensorPrimitives.Subtract(row, (float)m, dst);
                double rounding = m - (float)m;
                double v = Math.Max(0, TensorPrimitives.SumOfSquares(dst) / (double)d - rounding * rounding);
                float r = (float)(1.0 / Math.Sqrt(v + eps));
                mean[i] = (float)m; rstd[i] = r;
                TensorPrimitives.Multiply(dst, r, dst);
                if (gm != null) TensorPrimitives.Multiply(dst, gm, dst);
                if (bt != null) TensorPrimitives.Add(dst, bt, dst);
            }
        });
        return (y, new LayerCtx(eps, mean, rstd));
    }

    public static (Tensor Dx, float[]? DGamma, float[]? DBeta) LayerNormBackward(Tensor x, Tensor dy, Tensor? gamma,
        bool hasBeta, LayerCtx ctx)
    {
        int d = x.Shape[^1], rows = x.Numel / Math.Max(1, d);
        var xc = x.Contiguous(); var g = dy.Contiguous();
        var gm = gamma?.Contiguous().ToArray();
        var dx = Tensor.Empty(x.Shape);
        int chunks = Threads.Chunks(rows, Math.Max(1, 4096 / Math.Max(1, d)));
        var dgParts = new float[chunks][]; var dbParts = new float[chunks][];
        Threads.For(rows, Math.Max(1, 4096 / Math.Max(1, d)), (chunk, a, b) =>
        {
            var xh = new float[d]; var gg = new float[d];
            var dgp = new float[d]; var dbp = new float[d];
            for (int i = a; i < b; i++)
            {
                var xs = xc.Storage.AsSpan(xc.Offset + i * d, d);
                var gs = g.Storage.AsSpan(g.Offset + i * d, d);
                TensorPrimitives.Subtract(xs, ctx.Mean[i], xh); TensorPrimitives.Multiply(xh, ctx.Rstd[i], xh);
                // dgamma += dy * xhat; dbeta += dy
                for (int j = 0; j < d; j++) dgp[j] += gs[j] * xh[j];
                TensorPrimitives.Add(dbp, gs, dbp);
                if (gm != null) TensorPrimitives.Multiply(gs, gm, gg); else gs.CopyTo(gg);
                float m1 = TensorPrimitives.Sum(gg) / d, m2 = TensorPrimitives.Dot(gg, xh) / d;
                var dst = dx.Storage.AsSpan(i * d, d);
                float r = ctx.Rstd[i];
                for (int j = 0; j < d; j++) dst[j] = r * (gg[j] - m1 - xh[j] * m2);
            }
            dgParts[chunk] = dgp; dbParts[chunk] = dbp;
        });
        float[]? dgamma = null, dbeta = null;
        if (gamma != null)
        {
            dgamma = new float[d];
            foreach (var p in dgParts) if (p != null) TensorPrimitives.Add(dgamma, p, dgamma);
        }
        if (hasBeta) { dbeta = new float[d]; foreach (var p in dbParts) if (p != null) TensorPrimitives.Add(dbeta, p,
            dbeta); }
        return (dx, dgamma, dbeta);
    }
}
