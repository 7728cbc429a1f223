using Longshot.Diffusion.Layers;
using Longshot.Diffusion.Svd;
using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Unet3D;

/// <summary>
/// diffusers' TemporalConvLayer (ModelScope's temporal convolution stack): four (group norm over every frame of the
/// video, SiLU, (3, 1, 1) convolution over frames) steps, added to the input. Frames travel as a batch
/// [B*F, C, H, W]; the convolutions are <see cref="Ops.TemporalConv"/> on the stored Conv3d weights. On one clip of a
/// longer video (Video-Infinity), each norm takes the whole video's statistics and each convolution its neighbours'
/// edge frames through the exchange, so the clip's frames come out as in the whole video's stack.
/// </summary>
public sealed class TemporalConvStack : Module
{
    private readonly GroupNorm[] _norms = new GroupNorm[4];
    private readonly Conv3d[] _convs = new Conv3d[4];

    public TemporalConvStack(VarBuilder vb, int channels, int groups)
    {
        for (int i = 0; i < 4; i++)
        {
            // conv1 is Sequential(norm, silu, conv); conv2-4 put a dropout before the conv.
            var step = vb.Pp($"conv{i + 1}");
            _norms[i] = Child(new GroupNorm(step.Pp(0), groups, channels, 1e-5f));
            _convs[i] = Child(new Conv3d(step.Pp(i == 0 ? 2 : 3), channels, channels, new[] { 3, 1, 1 },
                padding: new[] { 1, 0, 0 }));
        }
    }

    /// <summary>x [B*F, C, H, W]; under a scope's exchange, one clip's frames [F, C, H, W].</summary>
    public Tensor Forward(Tensor x, int frames, TemporalScope? scope = null)
    {
        var h = x;
        for (int i = 0; i < 4; i++)
        {
            var w = _convs[i].Weight;
            var taps = w.Reshape(w.Shape[0], w.Shape[1], w.Shape[2]);
            if (scope?.Exchange is { } exchange)
            {
                h = ClipGroupNorm.Forward(h, _norms[i], silu: true, exchange);
                var (before, after) = exchange.Neighbours(h, 1);
                h = Ops.TemporalConvBetween(h, before, after, taps, _convs[i].Bias);
            }
            else h = Ops.TemporalConv(TemporalResnet.VideoGroupNorm(h, frames, _norms[i]), frames, taps,
                _convs[i].Bias);
        }
        return x + h;
    }
}

/// <summary>diffusers' Transformer2DModel with linear projections (as UNet3DConditionModel builds it): group norm
/// per frame, proj_in, one BasicTransformerBlock with cross-attention to the text, proj_out, the residual.</summary>
public sealed class SpatialTransformer : Module
{
    private readonly GroupNorm _norm;
    private readonly Linear _projIn, _projOut;
    private readonly SpatialBlock _block;

    public SpatialTransformer(VarBuilder vb, int channels, int heads, int contextDim, int groups)
    {
        _norm = Child(new GroupNorm(vb.Pp("norm"), groups, channels, 1e-6f));
        _projIn = Child(new Linear(vb.Pp("proj_in"), channels, channels));
        _block = Child(new SpatialBlock(vb.Pp("transformer_blocks").Pp(0), channels, heads, contextDim));
        _projOut = Child(new Linear(vb.Pp("proj_out"), channels, channels));
    }

    /// <summary>x [N, C, H, W] (N = videos x frames), context [N, L, Cc].</summary>
    public Tensor Forward(Tensor x, Tensor context)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        var tokens = _norm.Forward(x).Reshape(n, c, h * w).Permute(0, 2, 1).Contiguous();
        var y = _projOut.Forward(_block.Forward(_projIn.Forward(tokens), context));
        return x + y.Permute(0, 2, 1).Contiguous().Reshape(n, c, h, w);
    }
}

/// <summary>
/// diffusers' TransformerTemporalModel: group norm over every frame of the video, proj_in, a BasicTransformerBlock
/// whose two attentions are both self-attention over the frames of each pixel, proj_out, the residual. On one clip of a
/// longer video (Video-Infinity), the norm takes the whole video's statistics and both attentions see the scope's keys
/// (<see cref="ClipKeys"/>: the local window across the clip's edges and the video's global frames).
/// </summary>
public sealed class TemporalTransformer : Module
{
    private readonly GroupNorm _norm;
    private readonly Linear _projIn, _projOut;
    private readonly SpatialBlock _block;

    /// <param name="inner">Width of the attention (heads x head width): the channels, except in the UNet's input
    /// temporal transformer.</param>
    public TemporalTransformer(VarBuilder vb, int channels, int heads, int inner, int groups)
    {
        _norm = Child(new GroupNorm(vb.Pp("norm"), groups, channels, 1e-6f));
        _projIn = Child(new Linear(vb.Pp("proj_in"), channels, inner));
        _block = Child(new SpatialBlock(vb.Pp("transformer_blocks").Pp(0), inner, heads, null));
        _projOut = Child(new Linear(vb.Pp("proj_out"), inner, channels));
    }

    /// <summary>x [B*F, C, H, W]; under a scope's exchange, one clip's frames [F, C, H, W] at
    /// <paramref name="timestep"/>.</summary>
    public Tensor Forward(Tensor x, int frames, TemporalScope? scope = null, int timestep = 0)
    {
        if (scope is { IsPlain: false }) return Scoped(x, frames, scope, timestep);
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], b = n / frames;
        // [B*F, C, H, W] -> one sequence of F frames per pixel: [B*H*W, F, C].
        var normed = TemporalResnet.VideoGroupNorm(x, frames, _norm, silu: false);
        var seq = normed.Reshape(b, frames, c, h * w).Permute(0, 3, 1, 2).Contiguous().Reshape(b * h * w, frames, c);
        var y = _projOut.Forward(_block.Forward(_projIn.Forward(seq), null));
        return x + y.Reshape(b, h * w, frames, c).Permute(0, 2, 3, 1).Contiguous().Reshape(n, c, h, w);
    }

    private Tensor Scoped(Tensor x, int frames, TemporalScope scope, int timestep)
    {
        int c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        if (x.Shape[0] != frames)
            throw new LongshotException($"temporal exchange: one video per call, got {x.Shape[0]} images of " +
                $"{frames} frames.");
        var normed = scope.Exchange is { } exchange ? ClipGroupNorm.Forward(x, _norm, silu: false, exchange)
            : TemporalResnet.VideoGroupNorm(x, frames, _norm, silu: false);
        var seq = normed.Reshape(frames, c, h * w).Permute(2, 0, 1).Contiguous();          // [HW, F, C]
        var y = _projOut.Forward(_block.ForwardWithKeys(_projIn.Forward(seq),
            tokens => ClipKeys.ForTokens(tokens, scope, timestep)));
        return x + y.Permute(1, 2, 0).Contiguous().Reshape(frames, c, h, w);
    }
}
