using Longshot.Diffusion.Layers;
using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Unet;

/// <summary>A down block ("down_blocks.I"): its layers at one resolution, then a strided factorised convolution to
/// the next (all levels but the last). Every output is kept for the up blocks' skip connections.</summary>
public sealed class DownBlock : Module
{
    private readonly List<UnetLayer> _layers = new();
    private readonly SpatioTemporalConv? _downsampler;

    internal DownBlock(VarBuilder vb, int level, int inC, int tembDim, MaskUnetConfig cfg)
    {
        var ch = cfg.BlockOutChannels;
        for (int j = 0; j < cfg.LayersPerBlock; j++)
            _layers.Add(Child(new UnetLayer(vb, j, level, j == 0 ? inC : ch[level], ch[level], tembDim, down: true,
                cfg)));
        if (level < ch.Length - 1)
            _downsampler = Child(new SpatioTemporalConv(vb.Pp("downsamplers").Pp(0), "conv", ch[level], ch[level], 3,
                2, 1, new TemporalSpec(cfg.TemporalKernelSize)));
    }

    /// <summary>The block's layers.</summary>
    public IReadOnlyList<UnetLayer> Layers => _layers;

    /// <summary>The channels of each output the block keeps for the skips, in order.</summary>
    internal IEnumerable<int> SkipChannels(MaskUnetConfig cfg, int level) =>
        Enumerable.Repeat(cfg.BlockOutChannels[level], _layers.Count + (_downsampler != null ? 1 : 0));

    internal Tensor Forward(Tensor h, UnetContext c, Stack<Tensor> skips)
    {
        foreach (var layer in _layers)
        {
            h = layer.Forward(h, c);
            skips.Push(h);
        }
        if (_downsampler == null) return h;
        h = _downsampler.Forward(h, c.Frames, c.Scope);
        skips.Push(h);
        return h;
    }
}
