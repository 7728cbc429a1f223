using Longshot.Tensors;

namespace Longshot.Diffusion.Clips;

/// <summary>
/// How a video of N frames is cut into contiguous clips of about <c>clipFrames</c> (ceil(N / clipFrames) clips whose
/// lengths differ by at most one), which frames are global (G evenly spaced over the whole video, or strided within
/// each clip as the reference code picks them: <see cref="GlobalSelection"/>), and which clips
/// each of W workers hosts (contiguous runs). Clips and global frames depend only on N, the clip length and G, never
/// on W: that is what makes the video the same for any number of workers.
/// </summary>
public sealed class ClipLayout
{
    /// <summary>Frames of the video.</summary>
    public int Frames { get; }

    /// <summary>Number of clips.</summary>
    public int Clips { get; }

    /// <summary>Frames of the shortest clip.</summary>
    public int ShortestClip => Frames / Clips;

    /// <summary>Global frames, in order (G of them, or N if the video is shorter).</summary>
    public IReadOnlyList<int> GlobalPositions { get; }

    public ClipLayout(int frames, int clipFrames, int globalFrames, GlobalSelection selection = GlobalSelection.Even)
    {
        if (frames < 1) throw new LongshotException($"clips: {frames} frames.");
        if (clipFrames < 1) throw new LongshotException($"clips: clip length {clipFrames}.");
        Frames = frames;
        Clips = (frames + clipFrames - 1) / clipFrames;
        int g = Math.Min(globalFrames, frames);
        GlobalPositions = selection == GlobalSelection.Strided ? Strided(globalFrames)
            : Enumerable.Range(0, g).Select(k => (int)((2L * k + 1) * frames / (2L * g))).ToList();
    }

    /// <summary>Video-Infinity's choice: each clip shares top_k / clips frames, every (length / share)-th from its
    /// first (only its first when the share is 0), cut to top_k in clip order.</summary>
    private List<int> Strided(int topK)
    {
        int share = topK / Clips;
        return Enumerable.Range(0, Clips).SelectMany(c =>
        {
            int stride = share > 0 ? Math.Max(Length(c) / share, 1) : int.MaxValue;
            return Enumerable.Range(0, (Length(c) - 1) / stride + 1).Select(i => Start(c) + i * stride);
        }).Take(topK).ToList();
    }

    /// <summary>First frame of clip <paramref name="c"/>.</summary>
    public int Start(int c) => (int)((long)c * Frames / Clips);

    /// <summary>Frames of clip <paramref name="c"/>.</summary>
    public int Length(int c) => Start(c + 1) - Start(c);

    /// <summary>The global frames inside clip <paramref name="c"/>.</summary>
    public IReadOnlyList<int> GlobalsIn(int c) =>
        GlobalPositions.Where(p => p >= Start(c) && p < Start(c) + Length(c)).ToList();

    /// <summary>The clips worker <paramref name="w"/> of <paramref name="workers"/> hosts: [First, First +
    /// Count).</summary>
    public (int First, int Count) Hosted(int w, int workers)
    {
        if (workers < 1 || workers > Clips)
            throw new LongshotException($"{workers} workers for {Clips} clips: every worker needs a clip (use " +
                "shorter clips or fewer workers).");
        int first = (int)((long)w * Clips / workers), next = (int)((long)(w + 1) * Clips / workers);
        return (first, next - first);
    }
}
