using Longshot.Tensors;

namespace Longshot.Diffusion.Svd;

/// <summary>
/// ExVideo's extended frame positions for Stable Video Diffusion (DiffSynth-Studio's PositionalID and
/// TrainableTemporalTimesteps): a trainable table of one position embedding per frame, initialised by reflecting the
/// 25 positions SVD was trained on: frames 0-24 keep their index, later ones bounce back and forth over the last
/// <c>RepeatLength</c> positions (23, 22, ..., 4, 5, 6, ...), so a 128-frame model starts from positions it knows.
/// </summary>
public static class ExVideoPositions
{
    /// <summary>Positions SVD-XT was trained on.</summary>
    public const int MaxId = 25;

    /// <summary>Length of the reflected run.</summary>
    public const int RepeatLength = 20;

    /// <summary>The initial position id of each of <paramref name="frames"/> frames.</summary>
    public static int[] Ids(int frames)
    {
        var ids = new int[frames];
        for (int f = 0; f < frames; f++)
        {
            if (f < MaxId) { ids[f] = f; continue; }
            int p = (f - MaxId) % (RepeatLength * 2);
            ids[f] = p < RepeatLength ? MaxId - 2 - p : MaxId - 2 * RepeatLength + p;
        }
        return ids;
    }

    /// <summary>The initial table [frames, channels]: the sinusoidal features of each frame's position id.</summary>
    public static Tensor InitialTable(int frames, int channels) =>
        SinusoidalFeatures.Of(Ids(frames).Select(i => (float)i).ToArray(), channels);
}
