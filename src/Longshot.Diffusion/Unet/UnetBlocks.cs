using Longshot.Diffusion.Layers;
using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Unet;

/// <summary>Sinusoidal timestep features (diffusers' flip_sin_to_cos layout: cos then sin) and the MLP that embeds
/// them.</summary>
public sealed class TimestepEmbedding : Module
{
    private readonly Linear _l1, _l2;
    public int Dim { get; }

    public TimestepEmbedding(VarBuilder vb, int dim, int outDim)
    {
        Dim = dim;
        _l1 = Child(new Linear(vb.Pp("linear_1"), dim, outDim));
        _l2 = Child(new Linear(vb.Pp("linear_2"), outDim, outDim));
    }

    public static Tensor Sinusoidal(int[] timesteps, int dim)
    {
        int half = dim / 2;
        var t = Tensor.Zeros(timesteps.Length, dim);
        var s = t.Span;
        for (int b = 0; b < timesteps.Length; b++)
            for (int i = 0; i < half; i++)
            {
                double arg = timesteps[b] * Math.Exp(-Math.Log(10000) * i / half);
                s[b * dim + i] = (float)Math.Cos(arg);
                s[b * dim + half + i] = (float)Math.Sin(arg);
            }
        return t;
    }

    /// <summary>The embedding on the device of the layer's weights.</summary>
    public Tensor Forward(int[] timesteps) =>
        _l2.Forward(Ops.Silu(_l1.Forward(Sinusoidal(timesteps, Dim).ToDevice(_l1.Weight.Device))));
}

/// <summary>Resnet block with the timestep embedding added after the first (factorised) convolution (NUWA-XL Eq.
/// 7).</summary>
public sealed class UnetResnet : Module
{
    private readonly GroupNorm _norm1, _norm2;
    private readonly SpatioTemporalConv _conv1, _conv2;
    private readonly Linear _temb;
    private readonly Conv2d? _shortcut;

    public UnetResnet(VarBuilder vb, int inC, int outC, int tembDim, MaskUnetConfig cfg)
    {
        var temporal = new TemporalSpec(cfg.TemporalKernelSize);
        _norm1 = Child(new GroupNorm(vb.Pp("norm1"), cfg.NormNumGroups, inC));
        _conv1 = Child(new SpatioTemporalConv(vb, "conv1", inC, outC, 3, 1, 1, temporal));
        _temb = Child(new Linear(vb.Pp("time_emb_proj"), tembDim, outC));
        _norm2 = Child(new GroupNorm(vb.Pp("norm2"), cfg.NormNumGroups, outC));
        _conv2 = Child(new SpatioTemporalConv(vb, "conv2", outC, outC, 3, 1, 1, temporal));
        if (inC != outC) _shortcut = Child(new Conv2d(vb.Pp("conv_shortcut"), inC, outC, 1));
    }

    /// <param name="temb">[N, tembDim], one row per image (frames of a video share it).</param>
    public Tensor Forward(Tensor x, Tensor temb, int frames, TemporalScope? scope = null)
    {
        var h = _conv1.Forward(_norm1.Forward(x, silu: true), frames, scope);
        var t = _temb.Forward(Ops.Silu(temb));
        h = h + t.Reshape(t.Shape[0], t.Shape[1], 1, 1);
        h = _conv2.Forward(_norm2.Forward(h, silu: true), frames, scope);
        return (_shortcut?.Forward(x) ?? x) + h;
    }
}

/// <summary>
/// Injection of the visual condition and its mask (NUWA-XL Eq. 10-11): zero-initialised convolutions turn the
/// condition features into a scale and shift, h := w^c h + b^c + h, then the same for the mask. Untrained, it changes
/// nothing.
/// </summary>
public sealed class ConditionInjection : Module
{
    private readonly Conv2d _cond, _mask;

    public ConditionInjection(VarBuilder vb, int channels, int condChannels)
    {
        _cond = Child(new Conv2d(vb.Pp("cond_proj"), condChannels, 2 * channels, 3, padding: 1, init: Init.Zeros,
            biasInit: Init.Zeros));
        _mask = Child(new Conv2d(vb.Pp("mask_proj"), 1, 2 * channels, 3, padding: 1, init: Init.Zeros,
            biasInit: Init.Zeros));
    }

    public Tensor Forward(Tensor h, Tensor cond, Tensor mask)
    {
        int c = h.Shape[1];
        var wb = Ops.Split(_cond.Forward(cond), 1, c, c);
        h = wb[0] * h + wb[1] + h;
        var mb = Ops.Split(_mask.Forward(mask), 1, c, c);
        return mb[0] * h + mb[1] + h;
    }
}
