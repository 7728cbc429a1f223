using Longshot.Diffusion.Layers;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Svd;

/// <summary>
/// Stable Video Diffusion's UNet: diffusers' UNetSpatioTemporalConditionModel with its weight names. Each level pairs
/// spatial layers (the image model's) with temporal ones (over frames) blended by learned factors; the time
/// embedding adds the sinusoidal features of the added time ids (fps - 1, motion bucket id, noise augmentation
/// strength); the image embedding is the cross-attention context.
/// </summary>
public sealed class SvdUnet : Module
{
    private readonly Conv2d _convIn, _convOut;
    private readonly TimeMlp _timeEmbedding, _addEmbedding;
    private readonly SvdDownBlock[] _down;
    private readonly SvdMidBlock _mid;
    private readonly SvdUpBlock[] _up;
    private readonly GroupNorm _normOut;

    /// <summary>The settings it was built from.</summary>
    public SvdUnetConfig Config { get; }

    /// <summary>Its weights by diffusers name.</summary>
    public ParameterStore Parameters { get; }

    /// <summary>Training: recompute each resnet's and transformer's activations in the backward pass instead of
    /// keeping them.</summary>
    public bool GradientCheckpointing { get; set; }

    public SvdUnet(SvdUnetConfig config, VarBuilder vb)
    {
        config.Validate();
        Config = config;
        Parameters = vb.Store;
        int c0 = config.BlockOutChannels[0];
        _convIn = Child(new Conv2d(vb.Pp("conv_in"), config.InChannels, c0, 3, 1, 1));
        _timeEmbedding = Child(new TimeMlp(vb.Pp("time_embedding"), c0, config.TimeEmbedDim));
        _addEmbedding = Child(new TimeMlp(vb.Pp("add_embedding"), config.ProjectionClassEmbeddingsInputDim,
            config.TimeEmbedDim));
        _down = new SvdDownBlock[config.Levels];
        int inC = c0;
        for (int i = 0; i < config.Levels; i++)
        {
            _down[i] = Child(new SvdDownBlock(vb.Pp("down_blocks").Pp(i), config, i, inC));
            inC = config.BlockOutChannels[i];
        }
        _mid = Child(new SvdMidBlock(vb.Pp("mid_block"), config));
        _up = Enumerable.Range(0, config.Levels).Select(i => Child(new SvdUpBlock(vb.Pp("up_blocks").Pp(i), config, i)))
            .ToArray();
        _normOut = Child(new GroupNorm(vb.Pp("conv_norm_out"), 32, c0, 1e-5f));
        _convOut = Child(new Conv2d(vb.Pp("conv_out"), c0, config.OutChannels, 3, 1, 1));
        Eval();
    }

    /// <summary>A model with fresh random weights (tests and benchmarks).</summary>
    public static SvdUnet Random(SvdUnetConfig config, ulong seed = 0) =>
        new(config, VarBuilder.Fresh(new ParameterStore(), seed));

    /// <summary>The model over the weights of <paramref name="weights"/>, read in place in their stored type; a
    /// tensor the model does not use is an error naming the file and the key.</summary>
    public static SvdUnet Mapped(SvdUnetConfig config, SafeTensorsSet weights)
    {
        var unet = new SvdUnet(config, VarBuilder.Mapped(new ParameterStore(), weights));
        MappedModel.RequireAllUsed(weights, unet.Parameters, SvdUnetConfig.Class);
        return unet;
    }

    /// <summary>
    /// One denoising call, as diffusers' forward: <paramref name="sample"/> [B, F, C_in, H, W], the timestep (SVD
    /// passes 0.25 log sigma), <paramref name="context"/> [B, L, C_ctx], <paramref name="addedTimeIds"/> [B, ids];
    /// returns [B, F, C_out, H, W]. With a <paramref name="scope"/> the sample is one clip of a longer video (B = 1)
    /// whose temporal layers see the rest of it through the scope's exchange; <paramref name="scopeTimestep"/> is the
    /// step on the 1,000-step training scale (the dual scope's switch). <paramref name="temporalContext"/> gives the
    /// temporal blocks' context [S, Lc, Cc] for S pixel sequences when it is not the first frame's context of the
    /// sequence's own video: a guidance half run on its own passes what diffusers' batch of both halves would give it.
    /// </summary>
    public Tensor Forward(Tensor sample, float timestep, Tensor context, Tensor addedTimeIds,
        TemporalScope? scope = null, int scopeTimestep = 0, Func<int, Tensor>? temporalContext = null)
    {
        using var bounded = AllocationBudget.Bounded();   // 1.5 B parameters against 18 MB activations
        int b = sample.Shape[0], frames = sample.Shape[1];
        if (scope is { IsPlain: false } && b != 1)
            throw new ArgumentException($"a clip of a longer video is one video per call, got {b}.");
        // 1. Time: the timestep's features and the added time ids' features, each through its MLP.
        var t = SinusoidalFeatures.Of(Enumerable.Repeat(timestep, b).ToArray(), Config.BlockOutChannels[0]);
        var emb = _timeEmbedding.Forward(t.ToDevice(sample.Device));
        var ids = addedTimeIds.ToArray();
        var idFeatures = SinusoidalFeatures.Of(ids, Config.AdditionTimeEmbedDim)
            .Reshape(b, ids.Length / b * Config.AdditionTimeEmbedDim);
        emb = emb + _addEmbedding.Forward(idFeatures.ToDevice(sample.Device));

        // 2. Frames as a batch: the embedding and the context repeated for every frame of their video.
        var x = sample.Reshape(b * frames, sample.Shape[2], sample.Shape[3], sample.Shape[4]);
        var inputs = new SvdBlockInputs(RepeatFrames(emb, frames), RepeatFrames(context, frames), frames, scope,
            scopeTimestep, temporalContext, GradientCheckpointing);

        // 3. Down, keeping the skips.
        x = _convIn.Forward(x);
        var skips = new List<Tensor> { x };
        foreach (var block in _down) x = block.Forward(x, inputs, skips);

        // 4. Middle, then up through the skips.
        x = _mid.Forward(x, inputs);
        foreach (var block in _up) x = block.Forward(x, inputs, skips);

        // 5. Out.
        x = _convOut.Forward(_normOut.Forward(x, silu: true));
        return x.Reshape(b, frames, x.Shape[1], x.Shape[2], x.Shape[3]);
    }

    /// <summary>[B, ...] to [B*F, ...], each row repeated for its F frames (torch's repeat_interleave).</summary>
    internal static Tensor RepeatFrames(Tensor x, int frames)
    {
        var shape = x.Shape;
        var expanded = x.Unsqueeze(1).Expand(new[] { shape[0], frames }.Concat(shape.Skip(1)).ToArray());
        return expanded.Contiguous().Reshape(new[] { shape[0] * frames }.Concat(shape.Skip(1)).ToArray());
    }
}
