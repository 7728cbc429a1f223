using Longshot.Video.Formats;
using Longshot.Video.Imaging;

namespace Longshot.Video.Tests;

internal static class TestMedia
{
    /// <summary>
    /// True when ffmpeg is installed. CI installs it, so there (CI=true) its absence is a failure, not a skip.
    /// </summary>
    public static bool HasFfmpeg()
    {
        if (FFmpeg.IsAvailable) return true;
        if (Environment.GetEnvironmentVariable("CI") == "true")
            throw new InvalidOperationException("ffmpeg must be installed in CI (.ci/run installs it).");
        return false;
    }

    /// <summary>A smooth cartoon-like frame: gradient sky, ground, a moving ball.</summary>
    public static Frame Scene(int w, int h, int t)
    {
        var f = new Frame(w, h);
        var c = new Canvas(f);
        c.VerticalGradient(0, h * 2 / 3, new Rgb(90, 150, 230), new Rgb(200, 225, 250));
        c.Rect(0, h * 2 / 3f, w, h, new Rgb(80, 170, 70));
        c.Ellipse(8 + t * 2, h / 2f, 6, 6, new Rgb(220, 40, 40));
        c.Rect(w - 20, h / 3f, w - 8, h * 2 / 3f, new Rgb(120, 80, 40), radius: 2);
        return f;
    }

    public static Frame Noise(int w, int h, int seed)
    {
        var f = new Frame(w, h);
        new Random(seed).NextBytes(f.Rgb);
        return f;
    }
}
