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

/// <summary>
/// The attention stack of an MTD block: spatial self-attention over each frame's pixels (SA), prompt
/// cross-attention of each frame to its own prompt (PA), a feed-forward layer, then temporal self-attention over
/// each pixel's frames (TA) with a relative position bias from the frames' true distances in the long video, so one
/// model serves frames 1 apart and 225 apart. TA's output projection starts at zero (identity).
/// </summary>
public sealed class AttentionStack : Module
{
    private readonly LayerNorm _n1, _n2, _n3, _nt;
    private readonly MultiHeadAttention _sa, _pa, _ta;
    private readonly Linear _ff1, _ff2;
    private readonly Embedding _relBias;
    private readonly FramePositionEmbedding? _positionMlp;
    private readonly FramePositionTable? _positionTable;
    private readonly TemporalAdapter3d? _adapter;
    private readonly MaskUnetConfig _cfg;

    public AttentionStack(VarBuilder vb, VarBuilder temporalVb, int channels, MaskUnetConfig cfg)
    {
        _cfg = cfg;
        _n1 = Child(new LayerNorm(vb.Pp("norm1"), channels));
        _sa = Child(new MultiHeadAttention(vb.Pp("attn1"), channels, cfg.Heads));
        _n2 = Child(new LayerNorm(vb.Pp("norm2"), channels));
        _pa = Child(new MultiHeadAttention(vb.Pp("attn2"), channels, cfg.Heads, contextDim: cfg.CrossAttentionDim));
        _n3 = Child(new LayerNorm(vb.Pp("norm3"), channels));
        _ff1 = Child(new Linear(vb.Pp("ff").Pp("net").Pp(0).Pp("proj"), channels, 4 * channels));
        _ff2 = Child(new Linear(vb.Pp("ff").Pp("net").Pp(2), 4 * channels, channels));
        _nt = Child(new LayerNorm(temporalVb.Pp("norm"), channels));
        _ta = Child(new MultiHeadAttention(temporalVb.Pp("attn"), channels, cfg.Heads, zeroOut: true));
        _relBias = Child(new Embedding(temporalVb.Pp("relative_position_bias"), cfg.RelativeBuckets, cfg.Heads));
        if (cfg.FramePositionEmbedding)
            _positionMlp = Child(new FramePositionEmbedding(temporalVb.Pp("pos_embed"), channels));
        if (cfg.FramePositionTable > 0)
            _positionTable = Child(new FramePositionTable(temporalVb.Pp("pos_table"), cfg.FramePositionTable,
                channels));
        if (cfg.TemporalAdapter) _adapter = Child(new TemporalAdapter3d(temporalVb.Pp("adapter"), channels));
    }

    /// <summary>ExVideo's position table of this block, or null.</summary>
    public FramePositionTable? PositionTable => _positionTable;

    /// <summary>The base model's frame embedding of slots <paramref name="index"/> (for ExVideo's table), or
    /// null.</summary>
    public Tensor? PositionEmbedding(int[] index) => _positionMlp?.Forward(index);

    /// <summary>The frame position embedding and the 3D adapter, when the model has them, before temporal
    /// attention.</summary>
    private Tensor BeforeTemporal(Tensor y, int frames)
    {
        var pos = _positionMlp?.Forward(Enumerable.Range(0, frames).ToArray()) ?? _positionTable?.Forward(frames);
        if (pos != null)
        {
            int n = y.Shape[0], c = y.Shape[1], hh = y.Shape[2], ww = y.Shape[3];
            y = (y.Reshape(n / frames, frames, c, hh * ww) + pos.Reshape(1, frames, c, 1)).Reshape(n, c, hh, ww);
        }
        return _adapter?.Forward(y, frames) ?? y;
    }

    /// <param name="prompts">[N, l_p, d_p]: frame i attends to the prompt of frame i.</param>
    /// <param name="positions">True frame indices (length = frames), shared by every video of the batch.</param>
    /// <param name="scope">A local window and the exchange with neighbouring clips; null: full attention.</param>
    /// <param name="timestep">The call's timestep (the scope's key bias depends on it).</param>
    public Tensor Forward(Tensor h, Tensor prompts, int frames, int[] positions, TemporalScope? scope = null,
        int timestep = 0)
    {
        int n = h.Shape[0], c = h.Shape[1], hh = h.Shape[2], ww = h.Shape[3];
        var x = h.Reshape(n, c, hh * ww).Transpose(1, 2);           // [N, HW, C]
        x = x + _sa.Forward(_n1.Forward(x));
        x = x + _pa.Forward(_n2.Forward(x), prompts);
        x = x + _ff2.Forward(Ops.Gelu(_ff1.Forward(_n3.Forward(x))));
        var y = x.Transpose(1, 2).Reshape(n, c, hh, ww);
        if (frames <= 1) return y;
        if (_positionMlp != null || _positionTable != null || _adapter != null)
        {
            if (scope?.Exchange != null)
                throw new LongshotException("temporal exchange: models with frame positions or a 3D adapter " +
                    "cannot run clip by clip.");
            y = BeforeTemporal(y, frames);
        }
        if (scope is { IsPlain: false }) return ScopedTemporal(y, frames, positions, scope, timestep);
        var bias = RelativeBias(positions, positions);
        return TemporalOps.OverFrames(y, frames, t =>
        {
            var tokens = t.Transpose(1, 2);                         // [B*HW, L, C]
            return (tokens + _ta.Forward(_nt.Forward(tokens), bias: bias)).Transpose(1, 2);
        });
    }

    /// <summary>
    /// Temporal attention under a scope: keys are this clip's frames, the neighbouring clips' frames within the window
    /// and the video's global frames (Video-Infinity's dual-scope attention); each query sees the local keys at most
    /// Window frames away and every global key, with the exchange's logit bias on each kind.
    /// </summary>
    private Tensor ScopedTemporal(Tensor y, int frames, int[] positions, TemporalScope scope, int timestep)
    {
        int hh = y.Shape[2], ww = y.Shape[3];
        var keyFrames = new List<Tensor>();
        var keyPositions = new List<int>();
        int localKeys = frames;
        Tensor? before = null, after = null;
        (Tensor Frames, int[] Offsets)? global = null;
        if (scope.Exchange is { } ex)
        {
            if (y.Shape[0] != frames)
                throw new LongshotException($"temporal exchange: one video per call, got {y.Shape[0]} images of " +
                    $"{frames} frames.");
            (before, after) = ex.Neighbours(y, scope.Window);
            global = ex.Global(y);
        }
        if (before != null)
        {
            keyFrames.Add(before);
            keyPositions.AddRange(Enumerable.Range(positions[0] - before.Shape[0], before.Shape[0]));
            localKeys += before.Shape[0];
        }
        keyPositions.AddRange(positions);
        keyFrames.Add(y);
        if (after != null)
        {
            keyFrames.Add(after);
            keyPositions.AddRange(Enumerable.Range(positions[^1] + 1, after.Shape[0]));
            localKeys += after.Shape[0];
        }
        if (global is { } g)
        {
            keyFrames.Add(g.Frames);
            keyPositions.AddRange(g.Offsets.Select(o => positions[0] + o));
        }
        int keys = keyPositions.Count;
        var (localBias, globalBias) = scope.Exchange?.KeyBias(timestep) ?? (0f, 0f);
        var mask = new float[frames * keys];
        var extra = new float[frames * keys];
        for (int i = 0; i < frames; i++)
            for (int j = 0; j < keys; j++)
            {
                bool local = j < localKeys;
                mask[i * keys + j] = !local || scope.Window == 0 || Math.Abs(keyPositions[j] - positions[i])
                    <= scope.Window ? 1f : 0f;
                extra[i * keys + j] = local ? localBias : globalBias;
            }
        var bias = RelativeBias(positions, keyPositions.ToArray());
        if (localBias != 0 || globalBias != 0) bias = bias + Tensor.FromArray(extra, 1, 1, frames, keys);
        var tokens = TemporalOps.ToTokens(y, frames);                // [B*HW, L, C]
        var context = keyFrames.Count == 1 ? null
            : _nt.Forward(TemporalOps.ToTokens(Ops.Concat(keyFrames, 0), keys));
        var o = tokens + _ta.Forward(_nt.Forward(tokens), context, Tensor.FromArray(mask, 1, 1, frames, keys), bias);
        return TemporalOps.FromTokens(o, frames, hh, ww);
    }

    /// <summary>[1, heads, Lq, Lk] learned bias indexed by the signed, log-bucketed distance between
    /// frames.</summary>
    private Tensor RelativeBias(int[] queries, int[] keys)
    {
        int lq = queries.Length, lk = keys.Length;
        var ids = new int[lq * lk];
        for (int i = 0; i < lq; i++)
            for (int j = 0; j < lk; j++) ids[i * lk + j] = Bucket(keys[j] - queries[i], _cfg.RelativeBuckets,
                _cfg.MaxRelativeDistance);
        return _relBias.Forward(ids, lq, lk).Permute(2, 0, 1).Unsqueeze(0);
    }

    /// <summary>Signed distance to a bucket: exact for |d| &lt; 8, logarithmic up to the maximum distance.</summary>
    public static int Bucket(int d, int buckets, int maxDistance)
    {
        int half = buckets / 2, exact = Math.Min(8, half / 2), m = Math.Abs(d);
        int b = m < exact ? m
            : Math.Min(half - 1,
                exact + (int)(Math.Log(m / (double)exact) / Math.Log(maxDistance / (double)exact) * (half - exact)));
        return (d < 0 ? half : 0) + b;
    }
}
