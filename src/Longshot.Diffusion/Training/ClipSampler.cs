using Longshot.Tensors;
using Longshot.Tensors.Kernels;
using Longshot.Video.Store;

namespace Longshot.Diffusion.Training;

/// <summary>Draws training clips (consecutive or strided frames) from a split of a dataset store, as [N, 3, H, W] in
/// [-1, 1].</summary>
public sealed class ClipSampler
{
    private readonly IReadOnlyList<StoredEpisode> _episodes;

    /// <param name="minFrames">Only episodes of at least this many frames are drawn from (the rest are too short
    /// for the clips a run draws).</param>
    public ClipSampler(DatasetStore store, string split, int minFrames = 1)
    {
        _episodes = store.Split(split).Where(e => e.FrameCount >= minFrames).ToList();
        if (_episodes.Count == 0)
            throw new LongshotException(store.Split(split).Any()
                ? $"the dataset at {store.Root} has no {split} episode of {minFrames} frames or more (the longest " +
                    $"has {store.Split(split).Max(e => e.FrameCount)})."
                : $"the dataset at {store.Root} has no {split} episodes (it has " +
                    $"{store.Episodes.Count} in all; generate at least 3 episodes).");
    }

    public IReadOnlyList<StoredEpisode> Episodes => _episodes;

    /// <summary><paramref name="clips"/> random clips of <paramref name="length"/> frames spaced <paramref
    /// name="stride"/> apart.</summary>
    /// <param name="part">Only these clips (start, count) are loaded; the draws for all of them are still made,
    /// so every rank of a data-parallel job keeps its generator in step with one process's.</param>
    public Tensor Sample(Rng rng, int clips, int length, int stride = 1, (int From, int Count)? part = null)
    {
        var picks = new List<(StoredEpisode Ep, int Start)>();
        for (int c = 0; c < clips; c++)
        {
            var ep = _episodes[rng.NextInt(_episodes.Count)];
            int span = (length - 1) * stride + 1;
            if (span > ep.FrameCount)
                throw new LongshotException($"clips of {span} frames do not fit episodes of {ep.FrameCount} frames.");
            picks.Add((ep, rng.NextInt(ep.FrameCount - span + 1)));
        }
        var (from, count) = part ?? (0, clips);
        return Load(picks.GetRange(from, count), length, stride);
    }

    /// <summary>Frames of fixed clips (for validation).</summary>
    public static Tensor Load(IReadOnlyList<(StoredEpisode Ep, int Start)> clips, int length, int stride = 1)
    {
        var first = clips[0].Ep.ReadFrame(clips[0].Start);
        int h = first.Height, w = first.Width, per = 3 * h * w;
        var batch = Tensor.Zeros(clips.Count * length, 3, h, w);
        Threads.For(clips.Count * length, 4, (a, b) =>
        {
            for (int k = a; k < b; k++)
            {
                var (ep, start) = clips[k / length];
                var t = ep.ReadFrame(start + (k % length) * stride).ToTensor();
                t.Span.CopyTo(batch.Span.Slice(k * per, per));
            }
        });
        return batch;
    }
}
