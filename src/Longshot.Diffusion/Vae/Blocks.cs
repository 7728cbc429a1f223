using Longshot.Tensors;
using Longshot.Diffusion.Layers;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Vae;

/// <summary>diffusers' ResnetBlock2D (norm1, conv1, norm2, conv2, conv_shortcut when channels change), eps
/// 1e-6.</summary>
public sealed class ResnetBlock2D : Module
{
    private readonly GroupNorm _norm1, _norm2;
    private readonly SpatioTemporalConv _conv1, _conv2;
    private readonly Conv2d? _shortcut;

    public ResnetBlock2D(VarBuilder vb, int inC, int outC, AutoencoderKLConfig cfg)
    {
        _norm1 = Child(new GroupNorm(vb.Pp("norm1"), cfg.NormNumGroups, inC, 1e-6f));
        _conv1 = Child(new SpatioTemporalConv(vb, "conv1", inC, outC, 3, 1, 1, cfg.TemporalSpec));
        _norm2 = Child(new GroupNorm(vb.Pp("norm2"), cfg.NormNumGroups, outC, 1e-6f));
        _conv2 = Child(new SpatioTemporalConv(vb, "conv2", outC, outC, 3, 1, 1, cfg.TemporalSpec));
        if (inC != outC) _shortcut = Child(new Conv2d(vb.Pp("conv_shortcut"), inC, outC, 1));
    }

    public Tensor Forward(Tensor x, int frames)
    {
        var h = _conv1.Forward(_norm1.Forward(x, silu: true), frames);
        h = _conv2.Forward(_norm2.Forward(h, silu: true), frames);
        return (_shortcut?.Forward(x) ?? x) + h;
    }
}

/// <summary>diffusers' Downsample2D for the VAE: pad right and bottom by one, then a stride-2 3x3 conv.</summary>
public sealed class Downsample2D : Module
{
    private readonly SpatioTemporalConv _conv;

    public Downsample2D(VarBuilder vb, int channels, AutoencoderKLConfig cfg) =>
        _conv = Child(new SpatioTemporalConv(vb, "conv", channels, channels, 3, 2, 0, cfg.TemporalSpec));

    public Tensor Forward(Tensor x, int frames) => _conv.Forward(Ops.Pad(x, new[] { 0, 1, 0, 1 }), frames);
}

/// <summary>diffusers' Upsample2D: nearest 2x, then a 3x3 conv.</summary>
public sealed class Upsample2D : Module
{
    private readonly SpatioTemporalConv _conv;

    public Upsample2D(VarBuilder vb, int channels, AutoencoderKLConfig cfg) =>
        _conv = Child(new SpatioTemporalConv(vb, "conv", channels, channels, 3, 1, 1, cfg.TemporalSpec));

    public Tensor Forward(Tensor x, int frames) => _conv.Forward(Ops.UpsampleNearest(x, 2, 2), frames);
}

/// <summary>
/// Single-head self-attention over the pixels of each image (diffusers' Attention in the VAE mid block: group_norm,
/// to_q, to_k, to_v, to_out.0, residual). In T-KLVAE a temporal attention over the frames of each pixel follows,
/// with its output projection zero (NUWA-XL Eq. 2).
/// </summary>
public sealed class VaeAttention : Module
{
    private readonly GroupNorm _norm;
    private readonly MultiHeadAttention _attn;

    public VaeAttention(VarBuilder vb, int channels, AutoencoderKLConfig cfg, bool zeroOut = false)
    {
        _norm = Child(new GroupNorm(vb.Pp("group_norm"), cfg.NormNumGroups, channels, 1e-6f));
        _attn = Child(new MultiHeadAttention(vb, channels, 1, qkvBias: true, zeroOut: zeroOut));
    }

    /// <summary>x: [N, C, H, W]; attends over the H*W pixels of each image.</summary>
    public Tensor Forward(Tensor x)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        var tokens = _norm.Forward(x).Reshape(n, c, h * w).Transpose(1, 2);
        var o = _attn.Forward(tokens).Transpose(1, 2).Reshape(n, c, h, w);
        return x + o;
    }

    /// <summary>Attention over the frame axis of each pixel (t: [B*H*W, C, L]).</summary>
    public Tensor ForwardTemporal(Tensor t)
    {
        var tokens = _norm.Forward(t).Transpose(1, 2); // [B*HW, L, C]
        return t + _attn.Forward(tokens).Transpose(1, 2);
    }
}

/// <summary>diffusers' UNetMidBlock2D as used by the VAE: resnet, attention (+ temporal attention), resnet.</summary>
public sealed class VaeMidBlock : Module
{
    private readonly ResnetBlock2D _r0, _r1;
    private readonly VaeAttention? _attn, _temporalAttn;

    public VaeMidBlock(VarBuilder vb, int channels, AutoencoderKLConfig cfg)
    {
        _r0 = Child(new ResnetBlock2D(vb.Pp("resnets").Pp(0), channels, channels, cfg));
        if (cfg.MidBlockAddAttention)
        {
            _attn = Child(new VaeAttention(vb.Pp("attentions").Pp(0), channels, cfg));
            if (cfg.Temporal) _temporalAttn = Child(new VaeAttention(vb.Pp("temporal_attentions").Pp(0), channels, cfg,
                zeroOut: cfg.TemporalInit == "identity"));
        }
        _r1 = Child(new ResnetBlock2D(vb.Pp("resnets").Pp(1), channels, channels, cfg));
    }

    public Tensor Forward(Tensor x, int frames)
    {
        var h = _r0.Forward(x, frames);
        if (_attn != null) h = _attn.Forward(h);
        if (_temporalAttn != null && frames > 1) h = TemporalOps.OverFrames(h, frames, _temporalAttn.ForwardTemporal);
        return _r1.Forward(h, frames);
    }
}
