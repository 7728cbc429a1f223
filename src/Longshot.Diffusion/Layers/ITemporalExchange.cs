using Longshot.Tensors;

namespace Longshot.Diffusion.Layers;

/// <summary>
/// The context one clip of a long video needs at each temporal layer of a model call, from the clips sampled beside
/// it (Video-Infinity's clip parallelism). Every clip of the video makes the same calls in the same order; an
/// implementation may block until all of them have.
/// </summary>
public interface ITemporalExchange
{
    /// <summary>
    /// The last <paramref name="count"/> frames of the clip before this one and the first <paramref name="count"/> of
    /// the clip after it, at the layer now running ([count, C, H, W] each; <paramref name="clip"/> is this clip's
    /// [L, C, H, W] at that layer). Null where the video ends, or where the scope does not look past the clip.
    /// </summary>
    (Tensor? Before, Tensor? After) Neighbours(Tensor clip, int count);

    /// <summary>
    /// The video's global frames at this layer [G, C, H, W], each with its offset from this clip's first frame; null
    /// when the scope has no global frames.
    /// </summary>
    (Tensor Frames, int[] Offsets)? Global(Tensor clip);

    /// <summary>
    /// Element-wise sums over every clip of the video of each clip's <paramref name="partial"/> (a normalisation's
    /// per-group sums over its own frames), added in video order so the result does not depend on which worker hosts
    /// which clip; the clip's own values when clips do not share statistics.
    /// </summary>
    double[] SumOverClips(double[] partial);

    /// <summary>Logit biases on the local keys and on the global keys at <paramref name="timestep"/>.</summary>
    (float Local, float Global) KeyBias(int timestep);
}
