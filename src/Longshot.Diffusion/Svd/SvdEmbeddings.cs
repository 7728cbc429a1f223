using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Svd;

/// <summary>diffusers' Timesteps(dim, flip_sin_to_cos=True, downscale_freq_shift=0) on real-valued inputs: cos then
/// sin of t * 10000^(-i / half), computed in float32 step by step as the reference does.</summary>
public static class SinusoidalFeatures
{
    /// <summary>Features [N, dim] of <paramref name="values"/>.</summary>
    public static Tensor Of(IReadOnlyList<float> values, int dim)
    {
        int half = dim / 2;
        var freqs = new float[half];
        float logPeriod = -(float)Math.Log(10000.0);
        for (int i = 0; i < half; i++) freqs[i] = MathF.Exp(logPeriod * i / half);
        var t = Tensor.Zeros(values.Count, dim);
        var s = t.Span;
        for (int n = 0; n < values.Count; n++)
            for (int i = 0; i < half; i++)
            {
                float arg = values[n] * freqs[i];
                s[n * dim + i] = MathF.Cos(arg);
                s[n * dim + half + i] = MathF.Sin(arg);
            }
        return t;
    }
}

/// <summary>diffusers' TimestepEmbedding: linear_1, SiLU, linear_2 (keys linear_1, linear_2).</summary>
public sealed class TimeMlp : Module
{
    private readonly Linear _l1, _l2;

    /// <summary>Features of width <paramref name="inDim"/> to <paramref name="hidden"/>, then to
    /// <paramref name="outDim"/> (the hidden width when null).</summary>
    public TimeMlp(VarBuilder vb, int inDim, int hidden, int? outDim = null)
    {
        _l1 = Child(new Linear(vb.Pp("linear_1"), inDim, hidden));
        _l2 = Child(new Linear(vb.Pp("linear_2"), hidden, outDim ?? hidden));
    }

    /// <summary>[N, inDim] to [N, outDim].</summary>
    public Tensor Forward(Tensor features) => _l2.Forward(Ops.Silu(_l1.Forward(features)));
}

/// <summary>
/// diffusers' AlphaBlender with a learned factor on video frames ("learned", or "learned_with_images" with
/// image_only_indicator all zero): alpha = sigmoid(mix_factor), alpha * spatial + (1 - alpha) * temporal. The
/// temporal VAE's blocks swap the two weights (switch_spatial_to_temporal_mix).
/// </summary>
public sealed class AlphaBlender : Module
{
    private readonly Tensor _mixFactor;
    private readonly bool _switch;

    public AlphaBlender(VarBuilder vb, bool switchSpatialToTemporal = false)
    {
        _mixFactor = vb.Get("mix_factor", new[] { 1 }, Init.Const(0.5f));
        _switch = switchSpatialToTemporal;
    }

    /// <summary>The blend of two tensors of the same shape.</summary>
    public Tensor Forward(Tensor spatial, Tensor temporal)
    {
        float alpha = 1f / (1f + MathF.Exp(-_mixFactor.ToArray()[0]));
        if (_switch) alpha = 1f - alpha;
        return spatial * alpha + temporal * (1f - alpha);
    }
}
