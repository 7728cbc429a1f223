using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Layers;

/// <summary>A temporal convolution to add after a spatial one: kernel size, and identity (NUWA-XL Eq. 1) or PyTorch-default init.</summary>
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

    public SpatioTemporalConv(VarBuilder parent, string name, int inC, int outC, int kernel, int stride, int padding, TemporalSpec? temporal, Init? init = null)
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
}

/// <summary>Reshapes between frames-as-batch [B*L, C, H, W] and pixels-as-batch [B*H*W, C, L] (NUWA-XL Eq. 8-9).</summary>
public static class TemporalOps
{
    /// <summary>
    /// A temporal Conv1d (stride 1, same zero padding) applied over the frame axis, computed without moving pixels
    /// into the batch: each output frame is W' [Co, k*Ci] times its k neighbouring input frames stacked on channels
    /// [k*Ci, H*W], one wide GEMM per frame instead of one tiny GEMM per pixel. Same result as
    /// <see cref="OverFrames"/> with <c>conv.Forward</c>, same parameters.
    /// </summary>
    public static Tensor ConvOverFrames(Tensor y, int frames, Conv1d conv)
    {
        int n = y.Shape[0], c = y.Shape[1], h = y.Shape[2], w = y.Shape[3], k = conv.Weight.Shape[2], co = conv.Weight.Shape[0];
        if (n % frames != 0) throw new ArgumentException($"temporal layer: batch of {n} images is not a whole number of {frames}-frame videos.");
        if (conv.Stride != 1 || conv.Padding != (k - 1) / 2 || conv.PadMode != PadMode.Constant)
            return OverFrames(y, frames, conv.Forward);
        int b = n / frames, pad = (k - 1) / 2;
        var v = y.Reshape(b, frames, c * h * w);
        var padded = Ops.Pad(v, new[] { 0, 0, pad, pad });                       // [B, L + k - 1, C*HW]
        var taps = Enumerable.Range(0, k).Select(t => padded.Narrow(1, t, frames).Reshape(b * frames, c, h * w)).ToList();
        var stacked = Ops.Concat(taps, 1);                                        // [B*L, k*C, HW], tap-major
        var wk = conv.Weight.Permute(0, 2, 1).Reshape(co, k * c);                 // W'[o, t*C + i] = W[o, i, t]
        var o = Ops.MatMul(wk, stacked);                                          // [B*L, Co, HW]
        if (conv.Bias != null) o = o + conv.Bias.Reshape(1, co, 1);
        return o.Reshape(n, co, h, w);
    }

    public static Tensor OverFrames(Tensor y, int frames, Func<Tensor, Tensor> f)
    {
        int n = y.Shape[0], c = y.Shape[1], h = y.Shape[2], w = y.Shape[3];
        if (n % frames != 0) throw new ArgumentException($"temporal layer: batch of {n} images is not a whole number of {frames}-frame videos.");
        int b = n / frames;
        var t = y.Reshape(b, frames, c, h * w).Permute(0, 3, 2, 1).Reshape(b * h * w, c, frames);
        t = f(t);
        int c2 = t.Shape[1];
        return t.Reshape(b, h * w, c2, frames).Permute(0, 3, 2, 1).Reshape(n, c2, h, w);
    }
}
