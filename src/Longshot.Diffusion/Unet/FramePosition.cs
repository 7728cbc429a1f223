using Longshot.Tensors;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Unet;

/// <summary>
/// Stable Video Diffusion's absolute frame-index embedding of a temporal block: the sinusoid of each frame's slot index
/// (0 .. L-1) through a two-layer MLP, [L, C], added to every pixel of that frame before temporal attention. The last
/// layer starts at zero, so adding it to a trained model changes nothing until it trains.
/// </summary>
public sealed class FramePositionEmbedding : Module
{
    private readonly Linear _l1, _l2;
    private readonly int _channels;

    public FramePositionEmbedding(VarBuilder vb, int channels)
    {
        _channels = channels;
        _l1 = Child(new Linear(vb.Pp("linear_1"), channels, 4 * channels));
        _l2 = Child(new Linear(vb.Pp("linear_2"), 4 * channels, channels, init: Init.Zeros));
    }

    /// <summary>The embedding of each index in <paramref name="index"/>, [n, C].</summary>
    public Tensor Forward(int[] index) =>
        _l2.Forward(Ops.Silu(_l1.Forward(TimestepEmbedding.Sinusoidal(index, _channels))));
}

/// <summary>
/// ExVideo's extended positional embedding: a trainable table with one row per frame slot, [N, C], replacing the base
/// model's MLP (<see cref="FramePositionEmbedding"/>); ExVideo initialises it from the base embedding through
/// <see cref="ExVideoPositions.Map"/>.
/// </summary>
public sealed class FramePositionTable : Module
{
    public Tensor Weight { get; }

    public FramePositionTable(VarBuilder vb, int rows, int channels) =>
        Weight = vb.Get("weight", new[] { rows, channels }, Init.Zeros);

    public int Rows => Weight.Shape[0];

    /// <summary>Rows 0 .. <paramref name="frames"/> - 1, [frames, C].</summary>
    public Tensor Forward(int frames)
    {
        if (frames > Rows)
            throw new LongshotException($"the model's frame position table has {Rows} rows; it cannot run " +
                $"{frames} frames at once.");
        return Weight.Narrow(0, 0, frames);
    }
}

/// <summary>
/// ExVideo's identity-initialised 3x3x3 convolution adapter before temporal attention, on frames-as-batch
/// [B*L, C, H, W]: out[t] = W0 * x[t-1] + W1 * x[t] + W2 * x[t+1] + b (each a 3x3 spatial convolution), reflect
/// padding in time and zero padding in space. Centre tap = identity, everything else zero: at first it changes
/// nothing.
/// </summary>
public sealed class TemporalAdapter3d : Module
{
    public Tensor Weight { get; }
    public Tensor Bias { get; }

    public TemporalAdapter3d(VarBuilder vb, int channels)
    {
        Weight = vb.Get("weight", new[] { channels, channels, 3, 3, 3 }, Init.IdentityConv);
        Bias = vb.Get("bias", new[] { channels }, Init.Zeros);
    }

    public Tensor Forward(Tensor x, int frames)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], b = n / frames;
        if (frames < 2) return Ops.Conv2d(x, Tap(1), Bias, padding: 1);
        var v = x.Reshape(b, frames, c, h, w);
        // Reflect in time: frame -1 is frame 1, frame L is frame L-2.
        var before = Ops.Concat(new[] { v.Narrow(1, 1, 1), v.Narrow(1, 0, frames - 1) }, 1).Reshape(n, c, h, w);
        var after = Ops.Concat(new[] { v.Narrow(1, 1, frames - 1), v.Narrow(1, frames - 2, 1) }, 1)
            .Reshape(n, c, h, w);
        return Ops.Conv2d(before, Tap(0), padding: 1) + Ops.Conv2d(x, Tap(1), Bias, padding: 1)
            + Ops.Conv2d(after, Tap(2), padding: 1);
    }

    /// <summary>The spatial kernel of temporal tap <paramref name="t"/>, [C, C, 3, 3].</summary>
    private Tensor Tap(int t)
    {
        int c = Weight.Shape[0];
        return Weight.Narrow(2, t, 1).Reshape(c, c, 3, 3);
    }
}

/// <summary>ExVideo's map from an extended frame slot to the base model's slot whose embedding initialises
/// it.</summary>
public static class ExVideoPositions
{
    /// <summary>The lowest slot the reflection comes back to (the published code, for 25 base frames: 4).</summary>
    public const int Low = 4;

    /// <summary>
    /// Slots below the base length keep their own; past it the index reflects between the last base slot and
    /// <see cref="Low"/>, without repeating either end: 25 base frames give 0..24, 23..4, 5..24, 23..4, ... (ExVideo's
    /// released code maps 25 to 128 frames this way); 16 give 0..15, 14..4, 5..15, ...
    /// </summary>
    public static int Map(int slot, int baseLength)
    {
        if (baseLength < Low + 3) throw new LongshotException($"ExVideo: a base length of {baseLength} frames is too " +
            $"short to extend (at least {Low + 3}).");
        if (slot < baseLength) return slot;
        int half = baseLength - 1 - Low, p = (slot - baseLength) % (2 * half);
        return p < half ? baseLength - 2 - p : Low + 1 + (p - half);
    }
}
