using Longshot.Diffusion.Layers;
using Longshot.Tensors;

namespace Longshot.Diffusion.Clips;

/// <summary>
/// One clip's side of the exchange: what its temporal layers ask for (neighbouring frames, global frames, the key
/// bias of the step), answered through the <see cref="ClipBoard"/> of its process. Independent clips ask nothing.
/// </summary>
internal sealed class ClipExchange(ClipBoard board, ClipLayout layout, ClipSettings settings, int clip, int local)
    : ITemporalExchange
{
    private readonly int _start = layout.Start(clip);

    /// <summary>The clip settings this exchange follows.</summary>
    public ClipSettings Settings => settings;
    private int[] GlobalsHere => layout.GlobalsIn(clip).Select(p => p - _start).ToArray();

    public (Tensor? Before, Tensor? After) Neighbours(Tensor clipFrames, int count)
    {
        if (settings.Attention == ClipAttention.Independent || count == 0) return (null, null);
        int l = clipFrames.Shape[0];
        var head = clipFrames.Narrow(0, 0, count).Contiguous().ToArray();
        var tail = clipFrames.Narrow(0, l - count, count).Contiguous().ToArray();
        var (before, after) = board.Neighbours(local, head, tail);
        return (Frames(before, clipFrames), Frames(after, clipFrames));
    }

    public (Tensor Frames, int[] Offsets)? Global(Tensor clipFrames)
    {
        if (settings.Attention is ClipAttention.Independent or ClipAttention.Local) return null;
        int frameSize = clipFrames.Numel / clipFrames.Shape[0];
        var mine = GlobalsHere.SelectMany(f => clipFrames.Narrow(0, f, 1).Contiguous().ToArray()).ToArray();
        var all = board.Global(local, mine, frameSize);
        return (Frames(all, clipFrames)!, layout.GlobalPositions.Select(p => p - _start).ToArray());
    }

    public double[] SumOverClips(double[] partial) =>
        settings.Attention == ClipAttention.Independent ? partial : board.Sum(local, partial);

    public (float Local, float Global) KeyBias(int timestep) => settings.Attention switch
    {
        ClipAttention.Global => (0f, settings.Bias),
        ClipAttention.Dual => timestep >= settings.SwitchTimestep ? (0f, settings.Bias) : (settings.Bias, 0f),
        _ => (0f, 0f),
    };

    /// <summary>Stops every clip of the video when any asks to (<paramref name="stop"/>), at the same step.</summary>
    public bool Agree(bool stop) => board.Agree(local, stop);

    private static Tensor? Frames(float[]? data, Tensor like)
    {
        if (data == null) return null;
        int frameSize = like.Numel / like.Shape[0];
        return Tensor.FromArray(data, data.Length / frameSize, like.Shape[1], like.Shape[2], like.Shape[3]);
    }
}
