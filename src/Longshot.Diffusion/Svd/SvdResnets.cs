using Longshot.Diffusion.Layers;
using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Svd;

/// <summary>diffusers' ResnetBlock2D (norm1, conv1, time_emb_proj when there is a time embedding, norm2, conv2,
/// conv_shortcut when the width changes), on frames as a batch [B*F, C, H, W].</summary>
public sealed class TimeResnet2D : Module
{
    private readonly GroupNorm _norm1, _norm2;
    private readonly Conv2d _conv1, _conv2;
    private readonly Linear? _timeProj;
    private readonly Conv2d? _shortcut;

    public TimeResnet2D(VarBuilder vb, int inC, int outC, int? tembDim, float eps, int groups = 32)
    {
        _norm1 = Child(new GroupNorm(vb.Pp("norm1"), groups, inC, eps));
        _conv1 = Child(new Conv2d(vb.Pp("conv1"), inC, outC, 3, 1, 1));
        if (tembDim is { } t) _timeProj = Child(new Linear(vb.Pp("time_emb_proj"), t, outC));
        _norm2 = Child(new GroupNorm(vb.Pp("norm2"), groups, outC, eps));
        _conv2 = Child(new Conv2d(vb.Pp("conv2"), outC, outC, 3, 1, 1));
        if (inC != outC) _shortcut = Child(new Conv2d(vb.Pp("conv_shortcut"), inC, outC, 1));
    }

    /// <summary>x [N, C, H, W], temb [N, T] (null without a time embedding).</summary>
    public Tensor Forward(Tensor x, Tensor? temb)
    {
        var h = _conv1.Forward(_norm1.Forward(x, silu: true));
        h = AddTime(h, _timeProj, temb);
        h = _conv2.Forward(_norm2.Forward(h, silu: true));
        return (_shortcut?.Forward(x) ?? x) + h;
    }

    /// <summary>h plus the projected time embedding per image, when the block has one.</summary>
    internal static Tensor AddTime(Tensor h, Linear? proj, Tensor? temb)
    {
        if (proj == null) return h;
        if (temb == null) throw new ArgumentException("this resnet needs a time embedding.");
        var t = proj.Forward(Ops.Silu(temb));
        return h + t.Reshape(t.Shape[0], t.Shape[1], 1, 1);
    }
}

/// <summary>
/// diffusers' TemporalResnetBlock: the same residual block with (3, 1, 1) convolutions over frames, its group norms
/// taking statistics over every frame of a video. Runs on frames as a batch [B*F, C, H, W]; the convolutions are
/// <see cref="Ops.TemporalConv"/> on the stored Conv3d weights. On one clip of a longer video (Video-Infinity), the
/// norms take the whole video's statistics and the convolutions their neighbours' edge frames through the exchange.
/// </summary>
public sealed class TemporalResnet : Module
{
    private readonly GroupNorm _norm1, _norm2;
    private readonly Conv3d _conv1, _conv2;
    private readonly Linear? _timeProj;
    private readonly Conv3d? _shortcut;

    public TemporalResnet(VarBuilder vb, int inC, int outC, int? tembDim, float eps)
    {
        _norm1 = Child(new GroupNorm(vb.Pp("norm1"), 32, inC, eps));
        _conv1 = Child(new Conv3d(vb.Pp("conv1"), inC, outC, new[] { 3, 1, 1 }, padding: new[] { 1, 0, 0 }));
        if (tembDim is { } t) _timeProj = Child(new Linear(vb.Pp("time_emb_proj"), t, outC));
        _norm2 = Child(new GroupNorm(vb.Pp("norm2"), 32, outC, eps));
        _conv2 = Child(new Conv3d(vb.Pp("conv2"), outC, outC, new[] { 3, 1, 1 }, padding: new[] { 1, 0, 0 }));
        if (inC != outC) _shortcut = Child(new Conv3d(vb.Pp("conv_shortcut"), inC, outC, new[] { 1, 1, 1 }));
    }

    /// <summary>x [B*F, C, H, W], temb [B*F, T] (one row per frame; null without a time embedding); under a scope's
    /// exchange, one clip's frames.</summary>
    public Tensor Forward(Tensor x, Tensor? temb, int frames, TemporalScope? scope = null)
    {
        var exchange = scope?.Exchange;
        var h = exchange == null ? FrameConv(VideoGroupNorm(x, frames, _norm1), _conv1, frames)
            : ClipConv(ClipGroupNorm.Forward(x, _norm1, silu: true, exchange), _conv1, exchange);
        h = TimeResnet2D.AddTime(h, _timeProj, temb);
        h = exchange == null ? FrameConv(VideoGroupNorm(h, frames, _norm2), _conv2, frames)
            : ClipConv(ClipGroupNorm.Forward(h, _norm2, silu: true, exchange), _conv2, exchange);
        return (_shortcut == null ? x : FrameConv(x, _shortcut, frames)) + h;
    }

    /// <summary>A (3, 1, 1) convolution over one clip's frames, padded with its neighbours' edge frames.</summary>
    private static Tensor ClipConv(Tensor x, Conv3d conv, ITemporalExchange exchange)
    {
        var w = conv.Weight;
        var (before, after) = exchange.Neighbours(x, 1);
        return Ops.TemporalConvBetween(x, before, after, w.Reshape(w.Shape[0], w.Shape[1], w.Shape[2]), conv.Bias);
    }

    private static Tensor FrameConv(Tensor x, Conv3d conv, int frames)
    {
        var w = conv.Weight;
        return Ops.TemporalConv(x, frames, w.Reshape(w.Shape[0], w.Shape[1], w.Shape[2]), conv.Bias);
    }

    /// <summary>GroupNorm over [B, C, F, H, W] (statistics over all frames), with SiLU unless told otherwise, for
    /// frames stored as a batch (<see cref="Ops.VideoGroupNorm"/>).</summary>
    public static Tensor VideoGroupNorm(Tensor x, int frames, GroupNorm norm, bool silu = true) =>
        Ops.VideoGroupNorm(x, frames, norm.Groups, norm.Weight, norm.Bias, norm.Eps, silu);
}

/// <summary>diffusers' SpatioTemporalResBlock: a spatial resnet, then a temporal one, blended by a learned
/// factor.</summary>
public sealed class SpatioTemporalResBlock : Module
{
    private readonly TimeResnet2D _spatial;
    private readonly TemporalResnet _temporal;
    private readonly AlphaBlender _mixer;

    /// <param name="temporalEps">The temporal resnet's norm epsilon (the spatial one's when null).</param>
    /// <param name="switchMix">Swap the blend's weights, as the temporal VAE's blocks do.</param>
    public SpatioTemporalResBlock(VarBuilder vb, int inC, int outC, int? tembDim, float eps, float? temporalEps = null,
        bool switchMix = false)
    {
        _spatial = Child(new TimeResnet2D(vb.Pp("spatial_res_block"), inC, outC, tembDim, eps));
        _temporal = Child(new TemporalResnet(vb.Pp("temporal_res_block"), outC, outC, tembDim, temporalEps ?? eps));
        _mixer = Child(new AlphaBlender(vb.Pp("time_mixer"), switchMix));
    }

    /// <summary>x [B*F, C, H, W], temb [B*F, T] (null in the VAE); a scope for one clip of a longer video.</summary>
    public Tensor Forward(Tensor x, Tensor? temb, int frames, TemporalScope? scope = null)
    {
        var spatial = _spatial.Forward(x, temb);
        return _mixer.Forward(spatial, _temporal.Forward(spatial, temb, frames, scope));
    }
}
