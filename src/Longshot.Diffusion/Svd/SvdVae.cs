using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Svd;

/// <summary>
/// Stable Video Diffusion's VAE: diffusers' AutoencoderKLTemporalDecoder. It encodes single images with the image
/// VAE's encoder (the conditioning frame) and decodes chunks of frames with a temporal decoder whose resnets mix
/// over frames and whose output passes a (3, 1, 1) convolution over frames.
/// </summary>
public sealed class SvdVae : Module
{
    private readonly VaeEncoder _encoder;
    private readonly Conv2d _quant;
    private readonly TemporalDecoder _decoder;

    /// <summary>The settings it was built from.</summary>
    public SvdVaeConfig Config { get; }

    /// <summary>Its weights by diffusers name.</summary>
    public ParameterStore Parameters { get; }

    public SvdVae(SvdVaeConfig config, VarBuilder vb)
    {
        config.Validate();
        Config = config;
        Parameters = vb.Store;
        _encoder = Child(new VaeEncoder(vb.Pp("encoder"), config.EncoderConfig));
        _quant = Child(new Conv2d(vb.Pp("quant_conv"), 2 * config.LatentChannels, 2 * config.LatentChannels, 1));
        _decoder = Child(new TemporalDecoder(vb.Pp("decoder"), config));
        Eval();
    }

    /// <summary>A model with fresh random weights (tests and benchmarks).</summary>
    public static SvdVae Random(SvdVaeConfig config, ulong seed = 0) =>
        new(config, VarBuilder.Fresh(new ParameterStore(), seed));

    /// <summary>The model over <paramref name="weights"/>, read in place; an unused tensor is an error naming its
    /// file.</summary>
    public static SvdVae Mapped(SvdVaeConfig config, SafeTensorsSet weights)
    {
        var vae = new SvdVae(config, VarBuilder.Mapped(new ParameterStore(), weights));
        MappedModel.RequireAllUsed(weights, vae.Parameters, SvdVaeConfig.Class);
        return vae;
    }

    /// <summary>The latent distribution of images [N, 3, H, W] in [-1, 1] (H and W divisible by the down
    /// factor).</summary>
    public DiagonalGaussian Encode(Tensor images)
    {
        if (images.Rank != 4 || images.Shape[1] != Config.InChannels)
            throw new ArgumentException($"SVD VAE encode: expected [N, {Config.InChannels}, H, W], got " +
                $"[{string.Join(", ", images.Shape)}].");
        using var bounded = AllocationBudget.Bounded();
        return DiagonalGaussian.FromMoments(_quant.Forward(_encoder.Forward(images, 1)));
    }

    /// <summary>Images [B*F, 3, H, W] from latents [B*F, C, h, w] (unscaled), <paramref name="frames"/> frames per
    /// video decoded together.</summary>
    public Tensor Decode(Tensor z, int frames)
    {
        if (z.Rank != 4 || z.Shape[1] != Config.LatentChannels || z.Shape[0] % frames != 0)
            throw new ArgumentException($"SVD VAE decode: expected [B*{frames}, {Config.LatentChannels}, h, w], got " +
                $"[{string.Join(", ", z.Shape)}].");
        using var bounded = AllocationBudget.Bounded();
        return _decoder.Forward(z, frames);
    }
}

/// <summary>diffusers' TemporalDecoder: conv_in, a mid block (spatio-temporal resnets around one attention), up
/// blocks of spatio-temporal resnets, the output norm and convolution, and time_conv_out over frames.</summary>
public sealed class TemporalDecoder : Module
{
    private readonly Conv2d _convIn, _convOut;
    private readonly Conv3d _timeConvOut;
    private readonly List<SpatioTemporalResBlock> _midResnets = new();
    private readonly VaeAttention _midAttention;
    private readonly List<(List<SpatioTemporalResBlock> Resnets, Conv2d? Upsample)> _up = new();
    private readonly GroupNorm _normOut;

    public TemporalDecoder(VarBuilder vb, SvdVaeConfig cfg)
    {
        var ch = cfg.BlockOutChannels;
        int top = ch[^1];
        _convIn = Child(new Conv2d(vb.Pp("conv_in"), cfg.LatentChannels, top, 3, 1, 1));
        var mid = vb.Pp("mid_block");
        for (int i = 0; i < cfg.LayersPerBlock; i++) _midResnets.Add(Child(Resnet(mid.Pp("resnets").Pp(i), top, top)));
        _midAttention = Child(new VaeAttention(mid.Pp("attentions").Pp(0), top, cfg.EncoderConfig));
        int prev = top;
        for (int i = 0; i < ch.Length; i++)
        {
            int outC = ch[ch.Length - 1 - i];
            var block = vb.Pp("up_blocks").Pp(i);
            var resnets = Enumerable.Range(0, cfg.LayersPerBlock + 1)
                .Select(j => Child(Resnet(block.Pp("resnets").Pp(j), j == 0 ? prev : outC, outC))).ToList();
            var up = i < ch.Length - 1
                ? Child(new Conv2d(block.Pp("upsamplers").Pp(0).Pp("conv"), outC, outC, 3, 1, 1)) : null;
            _up.Add((resnets, up));
            prev = outC;
        }
        _normOut = Child(new GroupNorm(vb.Pp("conv_norm_out"), 32, ch[0], 1e-6f));
        _convOut = Child(new Conv2d(vb.Pp("conv_out"), ch[0], cfg.OutChannels, 3, 1, 1));
        _timeConvOut = Child(new Conv3d(vb.Pp("time_conv_out"), cfg.OutChannels, cfg.OutChannels, new[] { 3, 1, 1 },
            padding: new[] { 1, 0, 0 }));
    }

    private static SpatioTemporalResBlock Resnet(VarBuilder vb, int inC, int outC) =>
        new(vb, inC, outC, null, 1e-6f, temporalEps: 1e-5f, switchMix: true);

    /// <summary>z [B*F, C, h, w] to images [B*F, 3, H, W].</summary>
    public Tensor Forward(Tensor z, int frames)
    {
        var h = _convIn.Forward(z);
        h = _midResnets[0].Forward(h, null, frames);
        foreach (var resnet in _midResnets.Skip(1)) h = resnet.Forward(_midAttention.Forward(h), null, frames);
        foreach (var (resnets, upsample) in _up)
        {
            foreach (var resnet in resnets)
            {
                h = resnet.Forward(h, null, frames);
                AllocationBudget.Checkpoint();
            }
            if (upsample != null) h = upsample.Forward(Ops.UpsampleNearest(h, 2, 2));
        }
        h = _convOut.Forward(_normOut.Forward(h, silu: true));
        var w = _timeConvOut.Weight;
        return Ops.TemporalConv(h, frames, w.Reshape(w.Shape[0], w.Shape[1], w.Shape[2]), _timeConvOut.Bias);
    }
}
