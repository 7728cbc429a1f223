using Longshot.Diffusion.Layers;
using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Unet;

/// <summary>An up block ("up_blocks.U", level I = levels - 1 - U): one layer more than a down block, each taking the
/// previous output concatenated with a skip, then (all levels but the first) nearest 2x upsampling and a factorised
/// convolution.</summary>
public sealed class UpBlock : Module
{
    private readonly List<UnetLayer> _layers = new();
    private readonly SpatioTemporalConv? _upsampler;

    /// <param name="skips">The channels of the down blocks' kept outputs, taken from the top (last kept
    /// first).</param>
    internal UpBlock(VarBuilder vb, int level, int inC, Stack<int> skips, int tembDim, MaskUnetConfig cfg)
    {
        int c = cfg.BlockOutChannels[level], cur = inC;
        for (int j = 0; j < cfg.LayersPerBlock + 1; j++)
        {
            _layers.Add(Child(new UnetLayer(vb, j, level, cur + skips.Pop(), c, tembDim, down: false, cfg)));
            cur = c;
        }
        if (level > 0)
            _upsampler = Child(new SpatioTemporalConv(vb.Pp("upsamplers").Pp(0), "conv", c, c, 3, 1, 1,
                new TemporalSpec(cfg.TemporalKernelSize)));
    }

    /// <summary>The block's layers.</summary>
    public IReadOnlyList<UnetLayer> Layers => _layers;

    internal Tensor Forward(Tensor h, UnetContext c, Stack<Tensor> skips)
    {
        foreach (var layer in _layers) h = layer.Forward(Ops.Concat(new[] { h, skips.Pop() }, 1), c);
        return _upsampler == null ? h : _upsampler.Forward(Ops.UpsampleNearest(h, 2, 2), c.Frames, c.Scope);
    }
}
