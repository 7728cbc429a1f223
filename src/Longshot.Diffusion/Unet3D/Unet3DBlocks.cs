using Longshot.Diffusion.Layers;
using Longshot.Diffusion.Svd;
using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Unet3D;

/// <summary>What every block of the UNet3D reads: the time embedding and the text context, one row per frame, the
/// frames per video, and for one clip of a longer video the scope of its temporal layers with the call's
/// timestep.</summary>
public sealed record Unet3DInputs(Tensor TimeEmbedding, Tensor Context, int Frames, TemporalScope? Scope = null,
    int Timestep = 0);

/// <summary>One layer of a block: a resnet and the temporal convolutions after it, then (in the cross-attention
/// kinds) attention to the text and attention over frames.</summary>
internal sealed class Unet3DLayer : Module
{
    private readonly TimeResnet2D _resnet;
    private readonly TemporalConvStack _temporalConv;
    private readonly SpatialTransformer? _attention;
    private readonly TemporalTransformer? _temporalAttention;

    public Unet3DLayer(VarBuilder vb, int index, Unet3DConfig cfg, int inC, int outC, bool attention)
    {
        _resnet = Child(new TimeResnet2D(vb.Pp("resnets").Pp(index), inC, outC, cfg.TimeEmbedDim, cfg.NormEps,
            cfg.NormNumGroups));
        _temporalConv = Child(new TemporalConvStack(vb.Pp("temp_convs").Pp(index), outC, cfg.NormNumGroups));
        if (!attention) return;
        _attention = Child(new SpatialTransformer(vb.Pp("attentions").Pp(index), outC, cfg.HeadsAt(outC),
            cfg.CrossAttentionDim, cfg.NormNumGroups));
        _temporalAttention = Child(new TemporalTransformer(vb.Pp("temp_attentions").Pp(index), outC,
            cfg.HeadsAt(outC), outC, cfg.NormNumGroups));
    }

    public Tensor Forward(Tensor x, Unet3DInputs inputs)
    {
        x = _temporalConv.Forward(_resnet.Forward(x, inputs.TimeEmbedding), inputs.Frames, inputs.Scope);
        AllocationBudget.Checkpoint();
        if (_attention == null) return x;
        x = _temporalAttention!.Forward(_attention.Forward(x, inputs.Context), inputs.Frames, inputs.Scope,
            inputs.Timestep);
        AllocationBudget.Checkpoint();
        return x;
    }
}

/// <summary>diffusers' CrossAttnDownBlock3D / DownBlock3D: layers, then a stride-2 convolution except at the last
/// level.</summary>
public sealed class Unet3DDownBlock : Module
{
    private readonly List<Unet3DLayer> _layers = new();
    private readonly Conv2d? _downsample;

    public Unet3DDownBlock(VarBuilder vb, Unet3DConfig cfg, int level, int inC)
    {
        int outC = cfg.BlockOutChannels[level];
        for (int i = 0; i < cfg.LayersPerBlock; i++)
            _layers.Add(Child(new Unet3DLayer(vb, i, cfg, i == 0 ? inC : outC, outC, cfg.DownHasAttention(level))));
        if (level < cfg.Levels - 1)
            _downsample = Child(new Conv2d(vb.Pp("downsamplers").Pp(0).Pp("conv"), outC, outC, 3, 2, 1));
    }

    /// <summary>The block's output, with every intermediate state appended to <paramref name="skips"/>.</summary>
    public Tensor Forward(Tensor x, Unet3DInputs inputs, List<Tensor> skips)
    {
        foreach (var layer in _layers)
        {
            x = layer.Forward(x, inputs);
            skips.Add(x);
        }
        if (_downsample == null) return x;
        x = _downsample.Forward(x);
        skips.Add(x);
        return x;
    }
}

/// <summary>diffusers' UNetMidBlock3DCrossAttn: a resnet with its temporal convolutions, then attention to the text,
/// attention over frames, and another resnet with temporal convolutions.</summary>
public sealed class Unet3DMidBlock : Module
{
    private readonly TimeResnet2D _first, _second;
    private readonly TemporalConvStack _firstConv, _secondConv;
    private readonly SpatialTransformer _attention;
    private readonly TemporalTransformer _temporalAttention;

    public Unet3DMidBlock(VarBuilder vb, Unet3DConfig cfg)
    {
        int c = cfg.BlockOutChannels[^1], g = cfg.NormNumGroups;
        _first = Child(new TimeResnet2D(vb.Pp("resnets").Pp(0), c, c, cfg.TimeEmbedDim, cfg.NormEps, g));
        _firstConv = Child(new TemporalConvStack(vb.Pp("temp_convs").Pp(0), c, g));
        _attention = Child(new SpatialTransformer(vb.Pp("attentions").Pp(0), c, cfg.HeadsAt(c), cfg.CrossAttentionDim,
            g));
        _temporalAttention = Child(new TemporalTransformer(vb.Pp("temp_attentions").Pp(0), c, cfg.HeadsAt(c), c, g));
        _second = Child(new TimeResnet2D(vb.Pp("resnets").Pp(1), c, c, cfg.TimeEmbedDim, cfg.NormEps, g));
        _secondConv = Child(new TemporalConvStack(vb.Pp("temp_convs").Pp(1), c, g));
    }

    public Tensor Forward(Tensor x, Unet3DInputs inputs)
    {
        x = _firstConv.Forward(_first.Forward(x, inputs.TimeEmbedding), inputs.Frames, inputs.Scope);
        x = _temporalAttention.Forward(_attention.Forward(x, inputs.Context), inputs.Frames, inputs.Scope,
            inputs.Timestep);
        return _secondConv.Forward(_second.Forward(x, inputs.TimeEmbedding), inputs.Frames, inputs.Scope);
    }
}

/// <summary>diffusers' CrossAttnUpBlock3D / UpBlock3D: one more layer than the down level, each on the previous
/// output joined with a skip, then nearest upsampling to the next skip's size and a convolution except at the last
/// level.</summary>
public sealed class Unet3DUpBlock : Module
{
    private readonly List<Unet3DLayer> _layers = new();
    private readonly Conv2d? _upsampleConv;

    /// <param name="level">Up level, 0 = the lowest resolution.</param>
    public Unet3DUpBlock(VarBuilder vb, Unet3DConfig cfg, int level)
    {
        int n = cfg.Levels, down = n - 1 - level;
        int outC = cfg.BlockOutChannels[down];
        int prevC = cfg.BlockOutChannels[Math.Min(n - 1, down + 1)];
        int skipInC = cfg.BlockOutChannels[Math.Max(0, down - 1)];
        int layers = cfg.LayersPerBlock + 1;
        for (int i = 0; i < layers; i++)
        {
            int skip = i == layers - 1 ? skipInC : outC;
            _layers.Add(Child(new Unet3DLayer(vb, i, cfg, (i == 0 ? prevC : outC) + skip, outC,
                cfg.UpHasAttention(level))));
        }
        if (level < n - 1)
            _upsampleConv = Child(new Conv2d(vb.Pp("upsamplers").Pp(0).Pp("conv"), outC, outC, 3, 1, 1));
    }

    /// <summary>The block's output; takes its skips from the end of <paramref name="skips"/>, and upsamples to the
    /// size of the skip the next block takes first.</summary>
    public Tensor Forward(Tensor x, Unet3DInputs inputs, List<Tensor> skips)
    {
        foreach (var layer in _layers)
        {
            var skip = skips[^1];
            skips.RemoveAt(skips.Count - 1);
            x = layer.Forward(Ops.Concat(new[] { x, skip }, 1), inputs);
        }
        if (_upsampleConv == null) return x;
        var next = skips[^1];
        return _upsampleConv.Forward(UpsampleTo(x, next.Shape[2], next.Shape[3]));
    }

    /// <summary>
    /// Nearest upsampling to height x width as torch's interpolate(size=...) computes it. The sizes here are those
    /// the stride-2 convolution halved (s to ceil(s / 2)), where nearest-to-size equals doubling and cropping the
    /// last row or column of an odd size.
    /// </summary>
    internal static Tensor UpsampleTo(Tensor x, int height, int width)
    {
        int h = x.Shape[2], w = x.Shape[3];
        if (height is var th && (th > 2 * h || th < 2 * h - 1) || width > 2 * w || width < 2 * w - 1)
            throw new ArgumentException($"cannot upsample {h}x{w} to {height}x{width} by doubling.");
        var up = Ops.UpsampleNearest(x, 2, 2);
        if (height == 2 * h && width == 2 * w) return up;
        return up.Narrow(2, 0, height).Narrow(3, 0, width).Contiguous();
    }
}
