using Longshot.Tensors.Autograd;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors;

public static partial class Ops
{
    /// <summary>
    /// A 1-D convolution over the frame axis of videos stored frames-as-batch: x [B*L, C, H, W], weight [Co, C, k]
    /// (torch Conv1d layout, odd k), stride 1, zero padding (k - 1) / 2 — what Conv1d gives with pixels as batch,
    /// without moving pixels into the batch. Each output frame is W' [Co, k*C] times its k neighbouring input frames
    /// stacked on channels [k*C, H*W]: one wide GEMM per frame instead of one tiny GEMM per pixel.
    /// </summary>
    public static Tensor TemporalConv(Tensor x, int frames, Tensor weight, Tensor? bias = null)
    {
        Expect("TemporalConv", x, 4, "[B*L, C, H, W]"); Expect("TemporalConv", weight, 3, "[Co, C, k]");
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], co = weight.Shape[0], k = weight.Shape[2];
        if (frames < 1 || n % frames != 0)
            throw new ArgumentException($"TemporalConv: batch of {n} images is not a whole number of {frames}-frame " +
            $"videos.");
        if (weight.Shape[1] != c)
            throw new ArgumentException($"TemporalConv: weight {ShapeUtil.Str(weight.Shape)} expects " +
            $"{weight.Shape[1]} channels, input has {c}.");
        if (k % 2 == 0) throw new ArgumentException($"TemporalConv: kernel size {k} must be odd (same padding).");
        if (bias != null && (bias.Rank != 1 || bias.Shape[0] != co))
            throw new ArgumentException($"TemporalConv: bias {ShapeUtil.Str(bias.Shape)} does not match {co} output " +
            $"channels.");
        int b = n / frames, pad = (k - 1) / 2;
        var padded = Pad(x.Reshape(b, frames, c * h * w), new[] { 0, 0, pad, pad });   // [B, L + k - 1, C*HW]
        bool grad = GradMode.IsEnabled && (x.RequiresGrad || weight.RequiresGrad || (bias?.RequiresGrad ?? false));
        // On a device the taps below run as device ops (the fused kernel is the CPU's).
        if (!grad && x.Device == Devices.Device.Cpu)
        {
            using var tapMajor = TapMajor(weight);
            return TemporalConvNoGrad(padded.Contiguous(), tapMajor.Weights, bias, b, frames, c, h, w, k);
        }
        var wk = weight.Permute(0, 2, 1).Reshape(co, k * c);                              // W'[o, t*C + i] = W[o, i, t]
        var taps = Enumerable.Range(0, k).Select(t => padded.Narrow(1, t, frames).Reshape(n, c, h * w)).ToList();
        var o = MatMul(wk, Concat(taps, 1));                                             // [B*L, Co, HW]
        if (bias != null) o = o + bias.Reshape(1, co, 1);
        return o.Reshape(n, co, h, w);
    }

    /// <summary>
    /// Inference only: the same convolution over one video's frames x [L, C, H, W] whose padding is the given
    /// neighbouring frames, (k - 1) / 2 on each side (zeros where null): what the convolution over a longer video gives
    /// for these L frames, with one copy of the clip and no output frames computed for the padding.
    /// </summary>
    public static Tensor TemporalConvBetween(Tensor x, Tensor? before, Tensor? after, Tensor weight,
        Tensor? bias = null)
    {
        Expect("TemporalConvBetween", x, 4, "[L, C, H, W]"); Expect("TemporalConvBetween", weight, 3, "[Co, C, k]");
        int frames = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], k = weight.Shape[2], pad = (k - 1) / 2;
        if (GradMode.IsEnabled && (x.RequiresGrad || weight.RequiresGrad || (bias?.RequiresGrad ?? false)))
            throw new InvalidOperationException("TemporalConvBetween is for inference (no gradient).");
        if (weight.Shape[1] != c || k % 2 == 0)
            throw new ArgumentException($"TemporalConvBetween: weight {ShapeUtil.Str(weight.Shape)} does not fit " +
                $"{c} channels with odd taps.");
        int frame = c * h * w;
        var padded = Tensor.Zeros(frames + 2 * pad, c, h, w);
        foreach (var (part, at) in new[] { (before, 0), (x, pad), (after, pad + frames) })
        {
            if (part == null) continue;
            if (part.Shape[1] != c || part.Shape[2] != h || part.Shape[3] != w || (part != x && part.Shape[0] != pad))
                throw new ArgumentException($"TemporalConvBetween: neighbouring frames {ShapeUtil.Str(part.Shape)} " +
                    $"must be [{pad}, {c}, {h}, {w}].");
            padded.Narrow(0, at, part.Shape[0]).CopyFrom(part);
        }
        using var taps = TapMajor(weight);
        return TemporalConvNoGrad(padded, taps.Weights, bias, 1, frames, c, h, w, k);
    }

    /// <summary>W [Co, C, k] as W' [Co, k*C] (W'[o, t*C + i] = W[o, i, t]) in a leased array for the length of one
    /// inference call: a mapped weight is widened straight into it.</summary>
    private sealed class TapMajorWeights(float[] array, int co, int kc) : IDisposable
    {
        public Tensor Weights { get; } = new(array, new[] { co, kc });

        public void Dispose() => IO.WeightLeases.Return(array);
    }

    private static TapMajorWeights TapMajor(Tensor weight)
    {
        int co = weight.Shape[0], c = weight.Shape[1], k = weight.Shape[2];
        var array = IO.WeightLeases.Rent(co * k * c);
        using (var w = IO.WidenedWeight.Of(weight.Contiguous()))
            for (int o = 0; o < co; o++)
                for (int i = 0; i < c; i++)
                    for (int t = 0; t < k; t++)
                        array[o * k * c + t * c + i] = w.Array[w.Offset + (o * c + i) * k + t];
        return new TapMajorWeights(array, co, k * c);
    }

    // Inference: in the padded video the k frames around output frame f are k consecutive [C, HW] blocks, i.e. one
    // [k*C, HW] matrix in place, so every output frame is a single GEMM reading the padded video with no copies.
    private static Tensor TemporalConvNoGrad(Tensor padded, Tensor wk, Tensor? bias, int b, int frames, int c, int h,
        int w, int k)
    {
        int hw = h * w, co = wk.Shape[0], kc = k * c;
        var y = Tensor.Empty(b * frames, co, h, w);
        var bv = bias?.Contiguous().ToArray();
        float[] src = padded.Storage, dst = y.Storage, wts = wk.Storage;
        int srcOff = padded.Offset, wOff = wk.Offset;
        Threads.For(b * frames, 1, (s, e) =>
        {
            for (int i = s; i < e; i++)
            {
                int video = i / frames, f = i % frames;
                if (bv != null)
                    for (int o = 0; o < co; o++) Array.Fill(dst, bv[o], (i * co + o) * hw, hw);
                Gemm.Sgemm(false, false, co, hw, kc, 1f, wts, wOff, kc, src,
                    srcOff + (video * (frames + k - 1) + f) * c * hw, hw,
                    bv != null ? 1f : 0f, dst, i * co * hw, hw, parallel: false);
            }
        });
        return y;
    }
}
