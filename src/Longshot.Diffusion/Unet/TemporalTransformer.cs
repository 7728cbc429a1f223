using Longshot.Diffusion.Layers;
using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Unet;

/// <summary>
/// The temporal half of an MTD attention stack: self-attention over each pixel's frames with a relative position
/// bias from the frames' true distances in the long video (so one model serves frames 1 apart and 225 apart), its
/// output projection starting at zero (identity). Under a <see cref="TemporalScope"/> it attends to a local window and
/// to neighbouring clips' and the video's global frames (Video-Infinity's dual scope).
/// </summary>
public sealed class TemporalTransformer : Module
{
    private readonly LayerNorm _norm;
    private readonly MultiHeadAttention _attention;
    private readonly Embedding _relativeBias;
    private readonly FrameInputs? _frameInputs;
    private readonly MaskUnetConfig _cfg;

    public TemporalTransformer(VarBuilder vb, int channels, MaskUnetConfig cfg)
    {
        _cfg = cfg;
        _norm = Child(new LayerNorm(vb.Pp("norm"), channels));
        _attention = Child(new MultiHeadAttention(vb.Pp("attn"), channels, cfg.Heads, zeroOut: true));
        _relativeBias = Child(new Embedding(vb.Pp("relative_position_bias"), cfg.RelativeBuckets, cfg.Heads));
        if (FrameInputs.Create(vb, channels, cfg) is { } inputs) _frameInputs = Child(inputs);
    }

    /// <summary>The frame position embedding, ExVideo's table and adapter, when the model has them.</summary>
    public FrameInputs? FrameInputs => _frameInputs;

    /// <param name="y">[N, C, H, W]: videos of <paramref name="frames"/> frames.</param>
    /// <param name="positions">True frame indices (length = frames), shared by every video of the batch.</param>
    /// <param name="scope">A local window and the exchange with neighbouring clips; null: full attention.</param>
    /// <param name="timestep">The call's timestep (the scope's key bias depends on it).</param>
    public Tensor Forward(Tensor y, int frames, int[] positions, TemporalScope? scope = null, int timestep = 0)
    {
        if (frames <= 1) return y;
        if (_frameInputs != null)
        {
            if (scope?.Exchange != null)
                throw new LongshotException("temporal exchange: models with frame positions or a 3D adapter " +
                    "cannot run clip by clip.");
            y = _frameInputs.Forward(y, frames);
        }
        if (scope is { IsPlain: false }) return ScopedTemporal(y, frames, positions, scope, timestep);
        var bias = RelativeBias(positions, positions);
        return TemporalOps.OverFrames(y, frames, t =>
        {
            var tokens = t.Transpose(1, 2);                         // [B*HW, L, C]
            return (tokens + _attention.Forward(_norm.Forward(tokens), bias: bias)).Transpose(1, 2);
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
        if (scope.Exchange != null && y.Shape[0] != frames)
            throw new LongshotException($"temporal exchange: one video per call, got {y.Shape[0]} images of " +
                $"{frames} frames.");
        var keys = ClipKeys.Gather(y, positions, scope, timestep);
        var bias = RelativeBias(positions, keys.Positions);
        if (keys.Bias != null) bias = bias + keys.Bias;
        var tokens = TemporalOps.ToTokens(y, frames);                // [B*HW, L, C]
        var context = keys.OwnOnly ? null : _norm.Forward(TemporalOps.ToTokens(keys.Frames, keys.Positions.Length));
        var o = tokens + _attention.Forward(_norm.Forward(tokens), context, keys.Mask, bias);
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
        return _relativeBias.Forward(ids, lq, lk).Permute(2, 0, 1).Unsqueeze(0);
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
