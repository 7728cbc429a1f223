using Longshot.Tensors;
using Longshot.Diffusion.Layers;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Vae;

/// <summary>diffusers' VAE Encoder: conv_in, down_blocks (resnets + downsamplers), mid_block, conv_norm_out, conv_out
/// (to mean and log-variance).</summary>
public sealed class VaeEncoder : Module
{
    private readonly SpatioTemporalConv _convIn, _convOut;
    private readonly List<(List<ResnetBlock2D> Resnets, Downsample2D? Down)> _blocks = new();
    private readonly VaeMidBlock _mid;
    private readonly GroupNorm _normOut;

    public VaeEncoder(VarBuilder vb, AutoencoderKLConfig cfg)
    {
        var ch = cfg.BlockOutChannels;
        _convIn = Child(new SpatioTemporalConv(vb, "conv_in", cfg.InChannels, ch[0], 3, 1, 1, cfg.TemporalSpec));
        int prev = ch[0];
        for (int i = 0; i < ch.Length; i++)
        {
            var bvb = vb.Pp("down_blocks").Pp(i);
            var resnets = new List<ResnetBlock2D>();
            for (int j = 0; j < cfg.LayersPerBlock; j++)
            {
                resnets.Add(Child(new ResnetBlock2D(bvb.Pp("resnets").Pp(j), j == 0 ? prev : ch[i], ch[i], cfg)));
            }
            Downsample2D? down = i < ch.Length - 1 ? Child(new Downsample2D(bvb.Pp("downsamplers").Pp(0), ch[i], cfg))
                : null;
            _blocks.Add((resnets, down));
            prev = ch[i];
        }
        _mid = Child(new VaeMidBlock(vb.Pp("mid_block"), ch[^1], cfg));
        _normOut = Child(new GroupNorm(vb.Pp("conv_norm_out"), cfg.NormNumGroups, ch[^1], 1e-6f));
        _convOut = Child(new SpatioTemporalConv(vb, "conv_out", ch[^1], 2 * cfg.LatentChannels, 3, 1, 1,
            cfg.TemporalSpec));
    }

    public Tensor Forward(Tensor x, int frames)
    {
        var h = _convIn.Forward(x, frames);
        foreach (var (resnets, down) in _blocks)
        {
            foreach (var r in resnets) h = r.Forward(h, frames);
            if (down != null) h = down.Forward(h, frames);
        }
        h = _mid.Forward(h, frames);
        return _convOut.Forward(_normOut.Forward(h, silu: true), frames);
    }
}

/// <summary>diffusers' VAE Decoder: conv_in, mid_block, up_blocks (layers_per_block + 1 resnets + upsamplers),
/// conv_norm_out, conv_out.</summary>
public sealed class VaeDecoder : Module
{
    private readonly SpatioTemporalConv _convIn, _convOut;
    private readonly VaeMidBlock _mid;
    private readonly List<(List<ResnetBlock2D> Resnets, Upsample2D? Up)> _blocks = new();
    private readonly GroupNorm _normOut;

    public VaeDecoder(VarBuilder vb, AutoencoderKLConfig cfg)
    {
        var rev = cfg.BlockOutChannels.Reverse().ToArray();
        _convIn = Child(new SpatioTemporalConv(vb, "conv_in", cfg.LatentChannels, rev[0], 3, 1, 1, cfg.TemporalSpec));
        _mid = Child(new VaeMidBlock(vb.Pp("mid_block"), rev[0], cfg));
        int prev = rev[0];
        for (int i = 0; i < rev.Length; i++)
        {
            var bvb = vb.Pp("up_blocks").Pp(i);
            var resnets = new List<ResnetBlock2D>();
            for (int j = 0; j < cfg.LayersPerBlock + 1; j++)
                resnets.Add(Child(new ResnetBlock2D(bvb.Pp("resnets").Pp(j), j == 0 ? prev : rev[i], rev[i], cfg)));
            Upsample2D? up = i < rev.Length - 1 ? Child(new Upsample2D(bvb.Pp("upsamplers").Pp(0), rev[i], cfg)) : null;
            _blocks.Add((resnets, up));
            prev = rev[i];
        }
        _normOut = Child(new GroupNorm(vb.Pp("conv_norm_out"), cfg.NormNumGroups, rev[^1], 1e-6f));
        _convOut = Child(new SpatioTemporalConv(vb, "conv_out", rev[^1], cfg.OutChannels, 3, 1, 1, cfg.TemporalSpec));
    }

    public Tensor Forward(Tensor z, int frames)
    {
        var h = _mid.Forward(_convIn.Forward(z, frames), frames);
        foreach (var (resnets, up) in _blocks)
        {
            foreach (var r in resnets) h = r.Forward(h, frames);
            if (up != null) h = up.Forward(h, frames);
        }
        return _convOut.Forward(_normOut.Forward(h, silu: true), frames);
    }
}

/// <summary>A diagonal Gaussian over latents: mean and log-variance (clamped to [-30, 20] as diffusers does).</summary>
public sealed record DiagonalGaussian(Tensor Mean, Tensor LogVar)
{
    public static DiagonalGaussian FromMoments(Tensor moments)
    {
        int c = moments.Shape[1] / 2;
        var parts = Ops.Split(moments, 1, c, c);
        return new DiagonalGaussian(parts[0], ClampLogVar(parts[1]));
    }

    // Clamping is almost never needed: check cheaply, copy only when a value is out of range.
    private static Tensor ClampLogVar(Tensor lv)
    {
        var c = lv.Contiguous().Detach();
        ReadOnlySpan<float> span = lv.Device == Tensors.Devices.Device.Cpu ? c.Span : c.ToArray();
        if (System.Numerics.Tensors.TensorPrimitives.Min(span) >= -30f
            && System.Numerics.Tensors.TensorPrimitives.Max(span) <= 20f) return lv;
        using var _ = Tensor.NoGrad();
        var v = c.ToArray();
        for (int i = 0; i < v.Length; i++) v[i] = Math.Clamp(v[i], -30f, 20f);
        return Tensor.FromArray(v, lv.Shape).ToDevice(lv.Device);
    }

    /// <summary>mean + std * eps with eps from <paramref name="rng"/>.</summary>
    public Tensor Sample(Rng rng) =>
        Mean + Ops.Exp(LogVar * 0.5f) * Tensor.Randn(rng, Mean.Shape).ToDevice(Mean.Device);

    /// <summary>
    /// A sample when this batch is part <paramref name="part"/> of <paramref name="parts"/> equal parts of a larger
    /// one: the noise of the whole batch is drawn and this part's slice used, as one process would.
    /// </summary>
    public Tensor Sample(Rng rng, int parts, int part)
    {
        if (parts == 1) return Sample(rng);
        var shape = Mean.Shape.ToArray();
        shape[0] *= parts;
        var noise = Tensor.Randn(rng, shape).Narrow(0, part * Mean.Shape[0], Mean.Shape[0]).Contiguous()
            .ToDevice(Mean.Device);
        return Mean + Ops.Exp(LogVar * 0.5f) * noise;
    }

    /// <summary>KL to the standard normal, summed over latent elements and averaged over the batch.</summary>
    public Tensor Kl() => Ops.GaussianKl(Mean, LogVar) / Mean.Shape[0];
}
