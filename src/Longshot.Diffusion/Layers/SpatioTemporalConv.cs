using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Layers;

/// <summary>A temporal convolution to add after a spatial one: kernel size, and identity (NUWA-XL Eq. 1) or
/// PyTorch-default init.</summary>
public sealed record TemporalSpec(int Kernel = 3, bool Identity = true);

/// <summary>
/// Factorised convolution (NUWA-XL Eq. 8-9): a spatial convolution with frames as batch, keyed as diffusers keys it,
/// followed (when a <see cref="TemporalSpec"/> is given) by a temporal Conv1d over the frame axis with pixels as batch,
/// key prefix "NAME_temporal", initialised as the identity so the pretrained spatial layer is unchanged at first.
/// </summary>
public sealed class SpatioTemporalConv : Module
{
    public Conv2d Spatial { get; }
    public Conv1d? Temporal { get; }

    public SpatioTemporalConv(VarBuilder parent, string name, int inC, int outC, int kernel, int stride, int padding,
        TemporalSpec? temporal, Init? init = null)
    {
        Spatial = Child(new Conv2d(parent.Pp(name), inC, outC, kernel, stride, padding, init: init, biasInit: init));
        if (temporal != null)
        {
            int k = temporal.Kernel;
            Temporal = Child(new Conv1d(parent.Pp(name + "_temporal"), outC, outC, k, padding: (k - 1) / 2,
                init: temporal.Identity ? Init.IdentityConv : null, biasInit: temporal.Identity ? Init.Zeros : null));
        }
    }

    /// <param name="frames">Frames per video in the batch (N = videos x frames); 1 for still images.</param>
    public Tensor Forward(Tensor x, int frames)
    {
        var y = Spatial.Forward(x);
        return Temporal == null || frames <= 1 ? y : TemporalOps.ConvOverFrames(y, frames, Temporal);
    }

    /// <summary>
    /// The same, with the temporal convolution seeing the neighbouring clips' frames that <paramref name="scope"/>'s
    /// exchange brings (one video per call, inference only): they are its padding (<see
    /// cref="Ops.TemporalConvBetween"/>), so each output frame is what the convolution over the whole video gives.
    /// </summary>
    public Tensor Forward(Tensor x, int frames, TemporalScope? scope)
    {
        if (scope?.Exchange is not { } exchange || Temporal == null || frames <= 1) return Forward(x, frames);
        var y = Spatial.Forward(x);
        if (y.Shape[0] != frames)
            throw new LongshotException($"temporal exchange: one video per call, got {y.Shape[0]} images of " +
                $"{frames} frames.");
        var (before, after) = exchange.Neighbours(y, (Temporal.Weight.Shape[2] - 1) / 2);
        return before == null && after == null ? TemporalOps.ConvOverFrames(y, frames, Temporal)
            : Ops.TemporalConvBetween(y, before, after, Temporal.Weight, Temporal.Bias);
    }
}

/// <summary>Reshapes between frames-as-batch [B*L, C, H, W] and pixels-as-batch [B*H*W, C, L] (NUWA-XL Eq.
/// 8-9).</summary>
public static class TemporalOps
{
    /// <summary>
    /// A temporal Conv1d applied over the frame axis: <see cref="Ops.TemporalConv"/> (no pixels moved into the batch)
    /// when it is stride 1 with same zero padding, else <see cref="OverFrames"/> with <c>conv.Forward</c>.
    /// </summary>
    public static Tensor ConvOverFrames(Tensor y, int frames, Conv1d conv)
    {
        int k = conv.Weight.Shape[2];
        if (conv.Stride != 1 || k % 2 == 0 || conv.Padding != (k - 1) / 2 || conv.PadMode != PadMode.Constant)
            return OverFrames(y, frames, conv.Forward);
        return Ops.TemporalConv(y, frames, conv.Weight, conv.Bias);
    }

    /// <summary>Frames-as-batch [B*L, C, H, W] to one token sequence per pixel, [B*H*W, L, C].</summary>
    public static Tensor ToTokens(Tensor y, int frames)
    {
        int n = y.Shape[0], c = y.Shape[1], hw = y.Shape[2] * y.Shape[3];
        return y.Reshape(n / frames, frames, c, hw).Permute(0, 3, 1, 2).Reshape(n / frames * hw, frames, c);
    }

    /// <summary>The inverse of <see cref="ToTokens"/>.</summary>
    public static Tensor FromTokens(Tensor t, int frames, int h, int w)
    {
        int c = t.Shape[2], b = t.Shape[0] / (h * w);
        return t.Reshape(b, h * w, frames, c).Permute(0, 2, 3, 1).Reshape(b * frames, c, h, w);
    }

    public static Tensor OverFrames(Tensor y, int frames, Func<Tensor, Tensor> f)
    {
        int n = y.Shape[0], c = y.Shape[1], h = y.Shape[2], w = y.Shape[3];
        if (n % frames != 0)
            throw new LongshotException($"temporal layer: batch of {n} images is not a whole number of " +
            $"{frames}-frame videos.");
        int b = n / frames;
        var t = y.Reshape(b, frames, c, h * w).Permute(0, 3, 2, 1).Reshape(b * h * w, c, frames);
        t = f(t);
        int c2 = t.Shape[1];
        return t.Reshape(b, h * w, c2, frames).Permute(0, 3, 2, 1).Reshape(n, c2, h, w);
    }
}
