using Longshot.Tensors;
using Longshot.Video.Imaging;

namespace Longshot.Eval.Metrics;

/// <summary>Pixel-level signals of a video: frame-to-frame change, smoothness inside shots, detected cuts.</summary>
public static class VideoSignals
{
    /// <summary>Mean absolute difference of two frames' RGB values, on a 0..1 scale.</summary>
    public static double Change(Frame a, Frame b)
    {
        if (a.Width != b.Width || a.Height != b.Height)
            throw new LongshotException("frame change: frames differ in size.");
        long sum = 0;
        var x = a.Rgb; var y = b.Rgb;
        for (int i = 0; i < x.Length; i++) sum += Math.Abs(x[i] - y[i]);
        return sum / (255.0 * x.Length);
    }

    /// <summary>
    /// Temporal smoothness: mean frame-to-frame change between consecutive frames of the same shot (lower is
    /// smoother). Cuts the story asks for are not counted.
    /// </summary>
    public static double Jitter(IReadOnlyList<Frame> frames, IReadOnlyList<int> shots)
    {
        double sum = 0; int n = 0;
        for (int i = 1; i < frames.Count; i++)
            if (shots[i] == shots[i - 1]) { sum += Change(frames[i - 1], frames[i]); n++; }
        return n == 0 ? 0 : sum / n;
    }

    /// <summary>Indices i where frame i starts a new shot (change from frame i-1 above the threshold).</summary>
    public static List<int> DetectCuts(IReadOnlyList<Frame> frames, double threshold)
    {
        var cuts = new List<int>();
        for (int i = 1; i < frames.Count; i++)
            if (Change(frames[i - 1], frames[i]) > threshold) cuts.Add(i);
        return cuts;
    }

    /// <summary>
    /// Cut accuracy: F1 between detected cuts and the story's cuts, a detection within <paramref name="tolerance"/>
    /// frames of a story cut matching it (each at most once). A video with no cuts and none asked for scores 1.
    /// </summary>
    public static double CutF1(IReadOnlyList<int> detected, IReadOnlyList<int> expected, int tolerance = 1)
    {
        if (detected.Count == 0 && expected.Count == 0) return 1;
        var used = new bool[detected.Count];
        int hits = 0;
        foreach (var e in expected)
        {
            int best = -1;
            for (int j = 0; j < detected.Count; j++)
                if (!used[j] && Math.Abs(detected[j] - e) <= tolerance
                    && (best < 0 || Math.Abs(detected[j] - e) < Math.Abs(detected[best] - e))) best = j;
            if (best >= 0) { used[best] = true; hits++; }
        }
        if (hits == 0) return 0;
        double precision = (double)hits / detected.Count, recall = (double)hits / expected.Count;
        return 2 * precision * recall / (precision + recall);
    }

    /// <summary>Frames where the shot id changes.</summary>
    public static List<int> ShotStarts(IReadOnlyList<int> shots) =>
        Enumerable.Range(1, Math.Max(0, shots.Count - 1)).Where(i => shots[i] != shots[i - 1]).ToList();
}
