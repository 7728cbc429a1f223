using Longshot.Diffusion.Layers;
using Longshot.Diffusion.Svd;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Unet3D;

/// <summary>
/// The text-to-video UNet of ModelScope's text-to-video-ms-1.7b, zeroscope and (with its fps embedding) VideoCrafter2:
/// diffusers' UNet3DConditionModel with its weight names. Every level pairs an image model's layers (resnet,
/// attention to the text) with temporal ones (a stack of convolutions over frames, attention over frames); an input
/// temporal transformer follows the first convolution.
/// </summary>
public sealed class Unet3DModel : Module
{
    private readonly Conv2d _convIn, _convOut;
    private readonly TimeMlp _timeEmbedding;
    private readonly TimeMlp? _fpsEmbedding;
    private readonly TemporalTransformer _transformerIn;
    private readonly Unet3DDownBlock[] _down;
    private readonly Unet3DMidBlock _mid;
    private readonly Unet3DUpBlock[] _up;
    private readonly GroupNorm _normOut;

    /// <summary>The settings it was built from.</summary>
    public Unet3DConfig Config { get; }

    /// <summary>Its weights by diffusers name.</summary>
    public ParameterStore Parameters { get; }

    public Unet3DModel(Unet3DConfig config, VarBuilder vb)
    {
        config.Validate();
        Config = config;
        Parameters = vb.Store;
        int c0 = config.BlockOutChannels[0], g = config.NormNumGroups;
        _convIn = Child(new Conv2d(vb.Pp("conv_in"), config.InChannels, c0, 3, 1, 1));
        _timeEmbedding = Child(new TimeMlp(vb.Pp("time_embedding"), c0, config.TimeEmbedDim));
        if (config.HasFps) _fpsEmbedding = Child(new TimeMlp(vb.Pp("fps_embedding"), c0, config.TimeEmbedDim));
        _transformerIn = Child(new TemporalTransformer(vb.Pp("transformer_in"), c0, Unet3DConfig.InputTemporalHeads,
            Unet3DConfig.InputTemporalHeads * config.AttentionHeadDim, g));
        _down = new Unet3DDownBlock[config.Levels];
        int inC = c0;
        for (int i = 0; i < config.Levels; i++)
        {
            _down[i] = Child(new Unet3DDownBlock(vb.Pp("down_blocks").Pp(i), config, i, inC));
            inC = config.BlockOutChannels[i];
        }
        _mid = Child(new Unet3DMidBlock(vb.Pp("mid_block"), config));
        _up = Enumerable.Range(0, config.Levels)
            .Select(i => Child(new Unet3DUpBlock(vb.Pp("up_blocks").Pp(i), config, i))).ToArray();
        _normOut = Child(new GroupNorm(vb.Pp("conv_norm_out"), g, c0, config.NormEps));
        _convOut = Child(new Conv2d(vb.Pp("conv_out"), c0, config.OutChannels, 3, 1, 1));
        Eval();
    }

    /// <summary>A model with fresh random weights (tests and benchmarks).</summary>
    public static Unet3DModel Random(Unet3DConfig config, ulong seed = 0) =>
        new(config, VarBuilder.Fresh(new ParameterStore(), seed));

    /// <summary>The model over the weights of <paramref name="weights"/>, read in place in their stored type; a
    /// tensor the model does not use is an error naming the file and the key.</summary>
    public static Unet3DModel Mapped(Unet3DConfig config, SafeTensorsSet weights)
    {
        var unet = new Unet3DModel(config, VarBuilder.Mapped(new ParameterStore(), weights));
        MappedModel.RequireAllUsed(weights, unet.Parameters, Unet3DConfig.Class);
        return unet;
    }

    /// <summary>
    /// One denoising call, as diffusers' forward: <paramref name="sample"/> [B, C_in, F, H, W], the timestep,
    /// <paramref name="context"/> [B, L, C_text] (or one row per frame, [B*F, L, C_text]: a prompt per frame), and for
    /// VideoCrafter2 the frame rate; returns [B, C_out, F, H, W]. With a <paramref name="scope"/> the sample is one
    /// clip of a longer video (B = 1) whose temporal layers see the rest of it through the scope's exchange.
    /// </summary>
    public Tensor Forward(Tensor sample, float timestep, Tensor context, float? fps = null, TemporalScope? scope = null)
    {
        using var bounded = AllocationBudget.Bounded();   // 1.4 B parameters against activations of tens of MB
        if (sample.Rank != 5 || sample.Shape[1] != Config.InChannels)
            throw new ArgumentException($"sample must be [B, {Config.InChannels}, F, H, W], got " +
                $"[{string.Join(", ", sample.Shape)}].");
        bool perFrame = context.Rank == 3 && context.Shape[0] == sample.Shape[0] * sample.Shape[2];
        if (context.Rank != 3 || (context.Shape[0] != sample.Shape[0] && !perFrame)
            || context.Shape[2] != Config.CrossAttentionDim)
            throw new ArgumentException($"encoder_hidden_states must be [{sample.Shape[0]}, L, " +
                $"{Config.CrossAttentionDim}], got [{string.Join(", ", context.Shape)}].");
        if (scope is { IsPlain: false } && sample.Shape[0] != 1)
            throw new ArgumentException($"a clip of a longer video is one video per call, got {sample.Shape[0]}.");
        if (_fpsEmbedding != null && fps == null)
            throw new ArgumentException("this UNet has an fps embedding (VideoCrafter2): give the frame rate.");
        int b = sample.Shape[0], frames = sample.Shape[2], c0 = Config.BlockOutChannels[0];

        // 1. Time (and VideoCrafter2's frame rate): sinusoidal features through their MLPs.
        var emb = _timeEmbedding.Forward(SinusoidalFeatures.Of(Enumerable.Repeat(timestep, b).ToArray(), c0)
            .ToDevice(sample.Device));
        if (_fpsEmbedding != null)
            emb = emb + _fpsEmbedding.Forward(SinusoidalFeatures.Of(new[] { fps!.Value }, c0).ToDevice(sample.Device));

        // 2. Frames as a batch: [B, C, F, H, W] to [B*F, C, H, W]; embedding and text repeated per frame.
        var x = sample.Permute(0, 2, 1, 3, 4).Contiguous()
            .Reshape(b * frames, sample.Shape[1], sample.Shape[3], sample.Shape[4]);
        var inputs = new Unet3DInputs(SvdUnet.RepeatFrames(emb, frames),
            perFrame ? context : SvdUnet.RepeatFrames(context, frames), frames, scope, (int)timestep);

        // 3. In, then down keeping the skips.
        x = _transformerIn.Forward(_convIn.Forward(x), frames, scope, (int)timestep);
        var skips = new List<Tensor> { x };
        foreach (var block in _down) x = block.Forward(x, inputs, skips);

        // 4. Middle, then up through the skips.
        x = _mid.Forward(x, inputs);
        foreach (var block in _up) x = block.Forward(x, inputs, skips);

        // 5. Out, back to [B, C, F, H, W].
        x = _convOut.Forward(_normOut.Forward(x, silu: true));
        return x.Reshape(b, frames, x.Shape[1], x.Shape[2], x.Shape[3]).Permute(0, 2, 1, 3, 4).Contiguous();
    }
}
