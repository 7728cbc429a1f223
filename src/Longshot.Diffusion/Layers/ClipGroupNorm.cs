using Longshot.Tensors;
using Longshot.Tensors.Kernels;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Layers;

/// <summary>
/// A group norm whose statistics span a video's frames (a temporal layer's), run on one clip of the video with the
/// statistics of the whole video: each clip sums its own frames per group, the exchange adds the sums of every clip
/// (Video-Infinity's all-reduced group norm), and each clip normalises its frames with the result. The sums are in
/// double precision, one channel per thread, so a clip's share does not depend on the thread count.
/// </summary>
public static class ClipGroupNorm
{
    /// <summary>x [L, C, H, W], one clip's frames; the norm's affine, and a SiLU after it when
    /// <paramref name="silu"/>.</summary>
    public static Tensor Forward(Tensor x, GroupNorm norm, bool silu, ITemporalExchange exchange)
    {
        int l = x.Shape[0], c = x.Shape[1], plane = x.Shape[2] * x.Shape[3], groups = norm.Groups, per = c / groups;
        var data = x.Contiguous().ToArray();
        var channelSum = new double[c];
        var channelSquares = new double[c];
        Threads.For(c, 1, (c0, c1) =>
        {
            for (int ch = c0; ch < c1; ch++)
            {
                double s = 0, q = 0;
                for (int f = 0; f < l; f++)
                {
                    int at = (f * c + ch) * plane;
                    for (int i = 0; i < plane; i++)
                    {
                        double v = data[at + i];
                        s += v;
                        q += v * v;
                    }
                }
                channelSum[ch] = s;
                channelSquares[ch] = q;
            }
        });
        var partial = new double[2 * groups + 1];
        for (int ch = 0; ch < c; ch++)
        {
            partial[ch / per] += channelSum[ch];
            partial[groups + ch / per] += channelSquares[ch];
        }
        partial[2 * groups] = (double)l * per * plane;
        var total = exchange.SumOverClips(partial);

        // y = x * scale[c] + shift[c], from the video's mean and (biased) variance of each group.
        var gamma = norm.Weight.ToArray();
        var beta = norm.Bias.ToArray();
        var scale = new float[c];
        var shift = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            int g = ch / per;
            double mean = total[g] / total[2 * groups];
            double variance = Math.Max(0, total[groups + g] / total[2 * groups] - mean * mean);
            double a = gamma[ch] / Math.Sqrt(variance + norm.Eps);
            scale[ch] = (float)a;
            shift[ch] = (float)(beta[ch] - mean * a);
        }
        var y = new float[data.Length];
        Threads.For(l * c, 1, (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
            {
                float a = scale[p % c], b = shift[p % c];
                int at = p * plane;
                for (int i = 0; i < plane; i++)
                {
                    float v = data[at + i] * a + b;
                    y[at + i] = silu ? v / (1f + MathF.Exp(-v)) : v;
                }
            }
        });
        return Tensor.FromArray(y, x.Shape);
    }
}
