using Longshot.Diffusion.Layers;
using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Svd;

/// <summary>What every block of the SVD UNet reads: the time embedding per frame, the image context per frame, the
/// number of frames per video, and for one clip of a longer video the scope of its temporal layers with the step's
/// timestep on the 1,000-step scale and the temporal blocks' context for S pixel sequences (see
/// <see cref="SvdUnet.Forward"/>). Under gradient checkpointing every resnet and transformer keeps only its input for
/// the backward pass and runs again there.</summary>
public sealed record SvdBlockInputs(Tensor TimeEmbedding, Tensor Context, int Frames, TemporalScope? Scope = null,
    int Timestep = 0, Func<int, Tensor>? TemporalContext = null, bool GradientCheckpointing = false)
{
    /// <summary>A resnet on x.</summary>
    internal Tensor Resnet(SpatioTemporalResBlock resnet, Tensor x) =>
        Run(a => resnet.Forward(a[0], TimeEmbedding, Frames, Scope), x);

    /// <summary>A transformer on x.</summary>
    internal Tensor Attention(SpatioTemporalTransformer attention, Tensor x) =>
        Run(a => attention.Forward(a[0], Context, Frames, Scope, Timestep, TemporalContext), x);

    private Tensor Run(Func<Tensor[], Tensor> layer, Tensor x) =>
        GradientCheckpointing ? Tensors.Autograd.Checkpoint.Run(layer, x) : layer(new[] { x });
}

/// <summary>One resnet with an optional attention after it: a layer of a down, mid or up block.</summary>
internal sealed class SvdLayer(SpatioTemporalResBlock resnet, SpatioTemporalTransformer? attention)
{
    public Tensor Forward(Tensor x, SvdBlockInputs inputs)
    {
        x = inputs.Resnet(resnet, x);
        AllocationBudget.Checkpoint();
        x = attention == null ? x : inputs.Attention(attention, x);
        AllocationBudget.Checkpoint();
        return x;
    }
}

/// <summary>diffusers' DownBlockSpatioTemporal / CrossAttnDownBlockSpatioTemporal: resnets (each followed by an
/// attention in the cross-attention kind), then a stride-2 convolution except at the last level.</summary>
public sealed class SvdDownBlock : Module
{
    private readonly List<SvdLayer> _layers = new();
    private readonly Conv2d? _downsample;

    public SvdDownBlock(VarBuilder vb, SvdUnetConfig cfg, int level, int inC)
    {
        int outC = cfg.BlockOutChannels[level];
        bool attention = cfg.DownHasAttention(level);
        float eps = attention ? 1e-6f : 1e-5f;   // diffusers passes 1e-6 to the cross-attention kind, 1e-5 otherwise
        for (int i = 0; i < SvdUnetConfig.PerLevel(cfg.LayersPerBlock, level); i++)
        {
            var resnet = Child(new SpatioTemporalResBlock(vb.Pp("resnets").Pp(i), i == 0 ? inC : outC, outC,
                cfg.TimeEmbedDim, eps));
            var attn = attention ? Child(new SpatioTemporalTransformer(vb.Pp("attentions").Pp(i), outC,
                SvdUnetConfig.PerLevel(cfg.NumAttentionHeads, level),
                SvdUnetConfig.PerLevel(cfg.TransformerLayersPerBlock, level),
                SvdUnetConfig.PerLevel(cfg.CrossAttentionDim, level), cfg.ExtensionFrames)) : null;
            _layers.Add(new SvdLayer(resnet, attn));
        }
        if (level < cfg.Levels - 1)
            _downsample = Child(new Conv2d(vb.Pp("downsamplers").Pp(0).Pp("conv"), outC, outC, 3, 2, 1));
    }

    /// <summary>The block's output, with every intermediate state appended to <paramref name="skips"/>.</summary>
    public Tensor Forward(Tensor x, SvdBlockInputs inputs, List<Tensor> skips)
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

/// <summary>diffusers' UNetMidBlockSpatioTemporal: a resnet, then attention and resnet pairs.</summary>
public sealed class SvdMidBlock : Module
{
    private readonly SpatioTemporalResBlock _first;
    private readonly List<(SpatioTemporalTransformer Attention, SpatioTemporalResBlock Resnet)> _pairs = new();

    public SvdMidBlock(VarBuilder vb, SvdUnetConfig cfg)
    {
        int c = cfg.BlockOutChannels[^1], last = cfg.Levels - 1;
        _first = Child(new SpatioTemporalResBlock(vb.Pp("resnets").Pp(0), c, c, cfg.TimeEmbedDim, 1e-5f));
        var attention = Child(new SpatioTemporalTransformer(vb.Pp("attentions").Pp(0), c,
            SvdUnetConfig.PerLevel(cfg.NumAttentionHeads, last), SvdUnetConfig.PerLevel(cfg.TransformerLayersPerBlock,
                last), SvdUnetConfig.PerLevel(cfg.CrossAttentionDim, last), cfg.ExtensionFrames));
        var resnet = Child(new SpatioTemporalResBlock(vb.Pp("resnets").Pp(1), c, c, cfg.TimeEmbedDim, 1e-5f));
        _pairs.Add((attention, resnet));
    }

    public Tensor Forward(Tensor x, SvdBlockInputs inputs)
    {
        x = inputs.Resnet(_first, x);
        foreach (var (attention, resnet) in _pairs) x = inputs.Resnet(resnet, inputs.Attention(attention, x));
        return x;
    }
}

/// <summary>diffusers' UpBlockSpatioTemporal / CrossAttnUpBlockSpatioTemporal: one more resnet than the down
/// level, each on the previous output joined with a skip, then nearest 2x upsampling and a convolution except at
/// the last level.</summary>
public sealed class SvdUpBlock : Module
{
    private readonly List<SvdLayer> _layers = new();
    private readonly Conv2d? _upsampleConv;

    /// <param name="level">Up level, 0 = the lowest resolution.</param>
    public SvdUpBlock(VarBuilder vb, SvdUnetConfig cfg, int level)
    {
        int n = cfg.Levels, down = n - 1 - level;
        int outC = cfg.BlockOutChannels[down];
        int prevC = cfg.BlockOutChannels[Math.Min(n - 1, down + 1)];
        int skipInC = cfg.BlockOutChannels[Math.Max(0, down - 1)];
        int layers = SvdUnetConfig.PerLevel(cfg.LayersPerBlock, down) + 1;
        bool attention = cfg.UpHasAttention(level);
        for (int i = 0; i < layers; i++)
        {
            int skip = i == layers - 1 ? skipInC : outC;
            int inC = (i == 0 ? prevC : outC) + skip;
            var resnet = Child(new SpatioTemporalResBlock(vb.Pp("resnets").Pp(i), inC, outC, cfg.TimeEmbedDim,
                1e-6f));
            var attn = attention ? Child(new SpatioTemporalTransformer(vb.Pp("attentions").Pp(i), outC,
                SvdUnetConfig.PerLevel(cfg.NumAttentionHeads, down),
                SvdUnetConfig.PerLevel(cfg.TransformerLayersPerBlock, down),
                SvdUnetConfig.PerLevel(cfg.CrossAttentionDim, down), cfg.ExtensionFrames)) : null;
            _layers.Add(new SvdLayer(resnet, attn));
        }
        if (level < n - 1)
            _upsampleConv = Child(new Conv2d(vb.Pp("upsamplers").Pp(0).Pp("conv"), outC, outC, 3, 1, 1));
    }

    /// <summary>Number of skips this block takes.</summary>
    public int SkipCount => _layers.Count;

    /// <summary>The block's output; takes its skips from the end of <paramref name="skips"/>.</summary>
    public Tensor Forward(Tensor x, SvdBlockInputs inputs, List<Tensor> skips)
    {
        foreach (var layer in _layers)
        {
            var skip = skips[^1];
            skips.RemoveAt(skips.Count - 1);
            x = layer.Forward(Ops.Concat(new[] { x, skip }, 1), inputs);
        }
        return _upsampleConv == null ? x : _upsampleConv.Forward(Ops.UpsampleNearest(x, 2, 2));
    }
}
