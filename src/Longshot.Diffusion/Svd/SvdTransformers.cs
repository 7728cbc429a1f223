using Longshot.Diffusion.Layers;
using Longshot.Tensors;
using Longshot.Tensors.Autograd;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Svd;

/// <summary>diffusers' FeedForward with GEGLU: net.0.proj to twice the inner width, value * gelu(gate), net.2
/// back.</summary>
public sealed class GegluFeedForward : Module
{
    private readonly Linear _proj, _out;
    private readonly int _inner;

    public GegluFeedForward(VarBuilder vb, int dim, int? dimOut = null, int mult = 4)
    {
        _inner = dim * mult;
        _proj = Child(new Linear(vb.Pp("net").Pp(0).Pp("proj"), dim, _inner * 2));
        _out = Child(new Linear(vb.Pp("net").Pp(2), _inner, dimOut ?? dim));
    }

    /// <summary>Rows of tokens per piece when nothing records a graph: the widened hidden state of a piece stays
    /// near 16 MB (it is eight times the input's width, 147 MB for SVD's top level at 14 frames of 32x32).</summary>
    internal static int PieceElements = 1 << 22;

    /// <summary>x [..., dim]. Without a graph the tokens go through in pieces (the same bits: each output row depends
    /// on its input row alone).</summary>
    public Tensor Forward(Tensor x)
    {
        int width = x.Shape[^1], rows = x.Numel / width, piece = Math.Max(1, PieceElements / (2 * _inner));
        if (GradMode.IsEnabled || rows <= piece) return Whole(x);
        var flat = x.Reshape(rows, width);
        var pieces = new List<Tensor>();
        for (int r = 0; r < rows; r += piece) pieces.Add(Whole(flat.Narrow(0, r, Math.Min(piece, rows - r))));
        var shape = (int[])x.Shape.Clone();
        shape[^1] = pieces[0].Shape[^1];
        return Ops.Concat(pieces, 0).Reshape(shape);
    }

    private Tensor Whole(Tensor x) => _out.Forward(Ops.Geglu(_proj.Forward(x)));
}

/// <summary>diffusers' BasicTransformerBlock: self-attention, a second attention (to a context such as the image or
/// text embedding; with no context dimension, a second self-attention, diffusers' double_self_attention), GEGLU
/// feed-forward, each after a LayerNorm and added back.</summary>
public sealed class SpatialBlock : Module
{
    private readonly LayerNorm _norm1, _norm2, _norm3;
    private readonly MultiHeadAttention _attn1, _attn2;
    private readonly GegluFeedForward _ff;

    public SpatialBlock(VarBuilder vb, int dim, int heads, int? contextDim)
    {
        _norm1 = Child(new LayerNorm(vb.Pp("norm1"), dim));
        _attn1 = Child(new MultiHeadAttention(vb.Pp("attn1"), dim, heads));
        _norm2 = Child(new LayerNorm(vb.Pp("norm2"), dim));
        _attn2 = Child(new MultiHeadAttention(vb.Pp("attn2"), dim, heads, contextDim ?? dim));
        _norm3 = Child(new LayerNorm(vb.Pp("norm3"), dim));
        _ff = Child(new GegluFeedForward(vb.Pp("ff"), dim));
    }

    /// <summary>x [N, L, C], context [N, Lc, Cc] (null: the second attention attends to x itself).</summary>
    public Tensor Forward(Tensor x, Tensor? context)
    {
        x = _attn1.Forward(_norm1.Forward(x)) + x;
        var normed = _norm2.Forward(x);
        x = _attn2.Forward(normed, context ?? normed) + x;
        return _ff.Forward(_norm3.Forward(x)) + x;
    }

    /// <summary>
    /// x [N, L, C] with both attentions over x itself, each attending to the keys <paramref name="keys"/> gives for
    /// its normed input (context [N, K, C], mask and logit bias [1, 1, L, K]): temporal attention over one clip of a
    /// longer video.
    /// </summary>
    public Tensor ForwardWithKeys(Tensor x, Func<Tensor, (Tensor Context, Tensor Mask, Tensor? Bias)> keys)
    {
        x = Attend(_attn1, _norm1.Forward(x), keys) + x;
        x = Attend(_attn2, _norm2.Forward(x), keys) + x;
        return _ff.Forward(_norm3.Forward(x)) + x;
    }

    private static Tensor Attend(MultiHeadAttention attention, Tensor normed,
        Func<Tensor, (Tensor Context, Tensor Mask, Tensor? Bias)> keys)
    {
        var (context, mask, bias) = keys(normed);
        return attention.Forward(normed, context, mask, bias);
    }
}

/// <summary>
/// diffusers' TemporalBasicTransformerBlock: attention over the frames of each pixel. An input feed-forward
/// (ff_in after norm_in), self-attention over frames, cross-attention to the first frame's context, and the
/// feed-forward, each residual.
/// </summary>
public sealed class TemporalBlock : Module
{
    private readonly LayerNorm _normIn, _norm1, _norm2, _norm3;
    private readonly GegluFeedForward _ffIn, _ff;
    private readonly MultiHeadAttention _attn1, _attn2;

    public TemporalBlock(VarBuilder vb, int dim, int heads, int contextDim)
    {
        _normIn = Child(new LayerNorm(vb.Pp("norm_in"), dim));
        _ffIn = Child(new GegluFeedForward(vb.Pp("ff_in"), dim, dim));
        _norm1 = Child(new LayerNorm(vb.Pp("norm1"), dim));
        _attn1 = Child(new MultiHeadAttention(vb.Pp("attn1"), dim, heads));
        _norm2 = Child(new LayerNorm(vb.Pp("norm2"), dim));
        _attn2 = Child(new MultiHeadAttention(vb.Pp("attn2"), dim, heads, contextDim));
        _norm3 = Child(new LayerNorm(vb.Pp("norm3"), dim));
        _ff = Child(new GegluFeedForward(vb.Pp("ff"), dim));
    }

    /// <summary>x [B*F, S, C] (frames as a batch); context [B*S, Lc, Cc], one row per pixel sequence. Under a
    /// scope (one clip of a longer video, B = 1) the self-attention over frames sees the scope's keys.</summary>
    public Tensor Forward(Tensor x, int frames, Tensor context, TemporalScope? scope = null, int timestep = 0)
    {
        int bf = x.Shape[0], s = x.Shape[1], c = x.Shape[2], b = bf / frames;
        var h = x.Reshape(b, frames, s, c).Permute(0, 2, 1, 3).Contiguous().Reshape(b * s, frames, c);
        h = _ffIn.Forward(_normIn.Forward(h)) + h;
        var normed = _norm1.Forward(h);
        if (scope is { IsPlain: false })
        {
            var (keys, mask, bias) = ClipKeys.ForTokens(normed, scope, timestep);
            h = _attn1.Forward(normed, keys, mask, bias) + h;
        }
        else h = _attn1.Forward(normed) + h;
        h = _attn2.Forward(_norm2.Forward(h), context) + h;
        h = _ff.Forward(_norm3.Forward(h)) + h;
        return h.Reshape(b, s, frames, c).Permute(0, 2, 1, 3).Contiguous().Reshape(bf, s, c);
    }
}

/// <summary>
/// diffusers' TransformerSpatioTemporalModel: group norm, proj_in, then per layer a spatial block and a temporal
/// block (on the spatial output plus a sinusoidal frame-index embedding) blended by a learned factor, proj_out, and
/// the residual.
/// </summary>
public sealed class SpatioTemporalTransformer : Module
{
    private readonly GroupNorm _norm;
    private readonly Linear _projIn, _projOut;
    private readonly SpatialBlock[] _spatial;
    private readonly TemporalBlock[] _temporal;
    private readonly TimeMlp _framePosition;
    private readonly AlphaBlender _mixer;
    private readonly int _channels;
    private readonly Tensor? _positionTable;
    private readonly Conv3d? _positionalConv;

    /// <param name="extensionFrames">ExVideo's extension: a trainable position table of this many frames
    /// (<c>time_pos_table</c>) instead of sinusoidal frame indices, and a 3x3x3 convolution with reflect padding
    /// (<c>positional_conv</c>) on the temporal branch's input; null for SVD as published.</param>
    public SpatioTemporalTransformer(VarBuilder vb, int channels, int heads, int layers, int contextDim,
        int? extensionFrames = null)
    {
        _channels = channels;
        _norm = Child(new GroupNorm(vb.Pp("norm"), 32, channels, 1e-6f));
        _projIn = Child(new Linear(vb.Pp("proj_in"), channels, channels));
        _spatial = Enumerable.Range(0, layers).Select(i =>
            Child(new SpatialBlock(vb.Pp("transformer_blocks").Pp(i), channels, heads, contextDim))).ToArray();
        _temporal = Enumerable.Range(0, layers).Select(i =>
            Child(new TemporalBlock(vb.Pp("temporal_transformer_blocks").Pp(i), channels, heads, contextDim)))
            .ToArray();
        _framePosition = Child(new TimeMlp(vb.Pp("time_pos_embed"), channels, channels * 4, channels));
        if (extensionFrames is { } n)
        {
            _positionTable = vb.Get("time_pos_table", new[] { n, channels },
                Init.Values(ExVideoPositions.InitialTable(n, channels)));
            _positionalConv = Child(new Conv3d(vb.Pp("positional_conv"), channels, channels, new[] { 3, 3, 3 },
                padding: new[] { 1, 1, 1 }, padMode: PadMode.Reflect, init: Init.IdentityConv, biasInit: Init.Zeros));
        }
        _mixer = Child(new AlphaBlender(vb.Pp("time_mixer")));
        _projOut = Child(new Linear(vb.Pp("proj_out"), channels, channels));
    }

    /// <summary>x [B*F, C, H, W]; context [B*F, Lc, Cc] (each frame's copy of its video's context); a scope for one
    /// clip of a longer video, with the step's timestep on the 1,000-step scale (the dual scope's switch), and the
    /// temporal blocks' context for S pixel sequences when it is not the one <paramref name="context"/>
    /// gives.</summary>
    public Tensor Forward(Tensor x, Tensor context, int frames, TemporalScope? scope = null, int timestep = 0,
        Func<int, Tensor>? temporalContextFor = null)
    {
        int bf = x.Shape[0], c = x.Shape[1], hh = x.Shape[2], ww = x.Shape[3], b = bf / frames, s = hh * ww;
        var temporalContext = temporalContextFor?.Invoke(s) ?? TemporalContext(context, b, frames, s);

        var h = _norm.Forward(x).Permute(0, 2, 3, 1).Contiguous().Reshape(bf, s, c);
        h = _projIn.Forward(h);
        for (int i = 0; i < _spatial.Length; i++)
        {
            h = _spatial[i].Forward(h, context);
            h = _mixer.Forward(h, TemporalBranch(h, i, temporalContext, frames, hh, ww, scope, timestep));
        }
        h = _projOut.Forward(h);
        return h.Reshape(bf, hh, ww, c).Permute(0, 3, 1, 2).Contiguous() + x;
    }

    /// <summary>
    /// The temporal branch of layer <paramref name="layer"/>: the spatial output h [B*F, S, C] plus each frame's
    /// position embedding (through ExVideo's convolution when extended), then the temporal block over frames.
    /// </summary>
    internal Tensor TemporalBranch(Tensor h, int layer, Tensor temporalContext, int frames, int height, int width,
        TemporalScope? scope = null, int timestep = 0)
    {
        int bf = h.Shape[0], c = h.Shape[2];
        var x = h + FramePositions(bf, frames, h.Device).Reshape(bf, 1, c);
        if (_positionalConv != null)
            x = scope?.Exchange is { } exchange ? ClipPositionalConv(x, frames, height, width, exchange)
                : PositionalConv(x, frames, height, width);
        return _temporal[layer].Forward(x, frames, temporalContext, scope, timestep);
    }

    /// <summary>ExVideo's 3x3x3 convolution (reflect padding) on videos x [B*F, S, C].</summary>
    internal Tensor PositionalConv(Tensor x, int frames, int height, int width)
    {
        int bf = x.Shape[0], c = x.Shape[2], b = bf / frames;
        // [B*F, S, C] -> [B, C, F, H, W] for the convolution over frames and pixels, and back.
        var video = x.Reshape(b, frames, height, width, c).Permute(0, 4, 1, 2, 3);
        return _positionalConv!.Forward(video.Contiguous()).Permute(0, 2, 3, 4, 1).Contiguous()
            .Reshape(bf, height * width, c);
    }

    /// <summary>
    /// ExVideo's 3x3x3 convolution on one clip x [F, S, C]: its neighbours' edge frames pad it over frames, and where
    /// the video ends (or clips are independent) the reflection of its own second frame does, as the convolution's
    /// reflect padding over the whole video gives.
    /// </summary>
    internal Tensor ClipPositionalConv(Tensor x, int frames, int height, int width, ITemporalExchange exchange)
    {
        int c = x.Shape[2];
        if (frames < 2)
            throw new LongshotException("ExVideo's positional convolution needs clips of 2 frames or more.");
        var video = x.Reshape(frames, height, width, c).Permute(0, 3, 1, 2).Contiguous();    // [F, C, H, W]
        var (before, after) = exchange.Neighbours(video, 1);
        var padded = Ops.Concat(new[]
        {
            before ?? video.Narrow(0, 1, 1), video, after ?? video.Narrow(0, frames - 2, 1),
        }, 0);
        var conv = _positionalConv!;
        var y = Ops.Conv3d(padded.Permute(1, 0, 2, 3).Unsqueeze(0).Contiguous(), conv.Weight, conv.Bias,
            new[] { 1, 1, 1 }, new[] { 0, 1, 1 }, PadMode.Reflect);                         // [1, C, F, H, W]
        return y.Squeeze(0).Permute(1, 2, 3, 0).Contiguous().Reshape(frames, height * width, c);
    }

    /// <summary>Each frame's position embedding [B*F, C]: the time_pos_embed MLP on sinusoidal frame indices, or on
    /// the rows of ExVideo's table.</summary>
    private Tensor FramePositions(int bf, int frames, Longshot.Tensors.Devices.Device device)
    {
        Tensor features;
        if (_positionTable == null)
            features = SinusoidalFeatures.Of(Enumerable.Range(0, bf).Select(i => (float)(i % frames)).ToArray(),
                _channels);
        else
        {
            if (frames > _positionTable.Shape[0])
                throw new SettingException("Frames", $"{frames} frames are more than the extension's " +
                    $"{_positionTable.Shape[0]}-frame position table.");
            var rows = _positionTable.Narrow(0, 0, frames);
            features = rows.Unsqueeze(0).Expand(bf / frames, frames, _channels).Reshape(bf, _channels);
        }
        return _framePosition.Forward(features.ToDevice(device));
    }

    /// <summary>
    /// The first frame's context for every pixel sequence of the temporal blocks, in the reference's order: it
    /// broadcasts the [B, Lc, Cc] contexts to [S, B, ...] and flattens, so row r (pixel sequence r of the [B*S]
    /// batch) gets video r mod B's context. With one video per batch this is simply that video's; with several
    /// (classifier-free guidance) it is what diffusers computes, and Longshot keeps it so that its outputs match.
    /// </summary>
    private static Tensor TemporalContext(Tensor context, int b, int frames, int s)
    {
        int lc = context.Shape[1], cc = context.Shape[2];
        var first = context.Reshape(b, frames, lc, cc).Narrow(1, 0, 1).Reshape(1, b, lc, cc);
        return first.Expand(s, b, lc, cc).Contiguous().Reshape(s * b, lc, cc);
    }
}
