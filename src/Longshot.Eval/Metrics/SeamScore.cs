using Longshot.Video.Imaging;

namespace Longshot.Eval.Metrics;

/// <summary>
/// How visible the joins between separately generated pieces of a video are: the mean RMS pixel change from the last
/// frame of a piece to the first of the next, over the mean RMS change between neighbouring frames inside the pieces.
/// 1.0: the seams are as smooth as the motion around them; larger: the joins jump.
/// </summary>
public sealed class SeamScore
{
    private double _seam, _inside;
    private int _seams, _insides;

    /// <summary>Adds a video whose pieces start at <paramref name="starts"/> (the first piece at frame 0).</summary>
    public void Add(IReadOnlyList<Frame> frames, IEnumerable<int> starts)
    {
        var joins = starts.Where(s => s > 0 && s < frames.Count).ToHashSet();
        for (int f = 1; f < frames.Count; f++)
        {
            double change = Change(frames[f - 1], frames[f]);
            if (joins.Contains(f)) { _seam += change; _seams++; }
            else { _inside += change; _insides++; }
        }
    }

    /// <summary>The ratio, or NaN while there is no seam or no inside pair.</summary>
    public double Value => _seams == 0 || _insides == 0 || _inside == 0 ? double.NaN
        : _seam / _seams / (_inside / _insides);

    /// <summary>RMS difference of two frames, in pixel levels (0-255).</summary>
    public static double Change(Frame a, Frame b)
    {
        if (a.Width != b.Width || a.Height != b.Height)
            throw new ArgumentException("seam score: frames of different sizes.");
        double sum = 0;
        for (int i = 0; i < a.Rgb.Length; i++)
        {
            double d = a.Rgb[i] - b.Rgb[i];
            sum += d * d;
        }
        return Math.Sqrt(sum / a.Rgb.Length);
    }
}
