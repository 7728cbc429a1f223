using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Unet;

/// <summary>The mid block ("mid_block"): a resnet, the condition injection (with multi-scale injection), the
/// attention stack where the last level has attention, and a second resnet, at the lowest resolution.</summary>
public sealed class MidBlock : Module
{
    private readonly UnetResnet _first, _second;
    private readonly AttentionStack? _attention;
    private readonly ConditionInjection? _injection;

    internal MidBlock(VarBuilder vb, int channels, int tembDim, MaskUnetConfig cfg)
    {
        int last = cfg.BlockOutChannels.Length - 1;
        _first = Child(new UnetResnet(vb.Pp("resnets").Pp(0), channels, channels, tembDim, cfg));
        if (cfg.AttentionLevels[last])
            _attention = Child(new AttentionStack(vb.Pp("attentions").Pp(0), vb.Pp("temporal_attentions").Pp(0),
                channels, cfg));
        if (cfg.Injects(last, down: false) && cfg.MultiScaleInjection)
            _injection = Child(new ConditionInjection(vb.Pp("injections").Pp(0), channels, cfg.BlockOutChannels[last]));
        _second = Child(new UnetResnet(vb.Pp("resnets").Pp(1), channels, channels, tembDim, cfg));
    }

    /// <summary>The block's attention stack, or null.</summary>
    public AttentionStack? Attention => _attention;

    internal Tensor Forward(Tensor h, UnetContext c)
    {
        int last = c.Conditions.Count - 1;
        h = _first.Forward(h, c.TimeEmbedding, c.Frames, c.Scope);
        if (_injection != null) h = _injection.Forward(h, c.Conditions[last], c.Masks[last]);
        if (_attention != null) h = _attention.Forward(h, c.Prompts, c.Frames, c.Positions, c.Scope, c.Timestep);
        return _second.Forward(h, c.TimeEmbedding, c.Frames, c.Scope);
    }
}
