using Longshot.Diffusion.Layers;
using Longshot.Tensors;
using Longshot.Tensors.Autograd;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Unet;

/// <summary>What every block's layers see besides their input: the timestep embedding, the prompts, the condition
/// and mask at each resolution, the frames and their positions, the temporal scope and the call's timestep.</summary>
internal sealed record UnetContext(Tensor TimeEmbedding, Tensor Prompts, IReadOnlyList<Tensor> Conditions,
    IReadOnlyList<Tensor> Masks, int Frames, int[] Positions, TemporalScope? Scope, int Timestep,
    bool GradientCheckpointing);

/// <summary>
/// One layer of a down or up block: a resnet, the condition injection where the config injects (MI/SI), and the
/// attention stack where the level has attention. Under gradient checkpointing its activations are recomputed in the
/// backward pass instead of kept.
/// </summary>
public sealed class UnetLayer : Module
{
    private readonly UnetResnet _resnet;
    private readonly ConditionInjection? _injection;
    private readonly AttentionStack? _attention;
    private readonly int _level;

    internal UnetLayer(VarBuilder block, int j, int level, int inC, int outC, int tembDim, bool down,
        MaskUnetConfig cfg)
    {
        _level = level;
        _resnet = Child(new UnetResnet(block.Pp("resnets").Pp(j), inC, outC, tembDim, cfg));
        if (cfg.Injects(level, down))
            _injection = Child(new ConditionInjection(block.Pp("injections").Pp(j), outC, outC));
        if (cfg.AttentionLevels[level])
            _attention = Child(new AttentionStack(block.Pp("attentions").Pp(j), block.Pp("temporal_attentions").Pp(j),
                outC, cfg));
    }

    /// <summary>The layer's attention stack, or null.</summary>
    public AttentionStack? Attention => _attention;

    internal Tensor Forward(Tensor input, UnetContext c)
    {
        Tensor Body(Tensor[] a)
        {
            var y = _resnet.Forward(a[0], a[1], c.Frames, c.Scope);
            if (_injection != null) y = _injection.Forward(y, a[3], a[4]);
            return _attention != null ? _attention.Forward(y, a[2], c.Frames, c.Positions, c.Scope, c.Timestep) : y;
        }
        var inputs = new[] { input, c.TimeEmbedding, c.Prompts, c.Conditions[_level], c.Masks[_level] };
        return c.GradientCheckpointing ? Checkpoint.Run(Body, inputs) : Body(inputs);
    }
}
