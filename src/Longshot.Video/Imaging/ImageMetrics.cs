using Longshot.Tensors;

namespace Longshot.Video.Imaging;

/// <summary>Reconstruction metrics on 8-bit frames: PSNR, SSIM and a temporal-consistency error.</summary>
public static class ImageMetrics
{
    /// <summary>
    /// SSIM on luma with 8x8 windows at stride 4 (constants of Wang et al., L = 255), averaged over windows.
    /// </summary>
    public static double Ssim(Frame a, Frame b)
    {
        if (a.Width != b.Width || a.Height != b.Height) throw new LongshotException("Ssim: frame sizes differ.");
        const double c1 = 6.5025, c2 = 58.5225; // (0.01 * 255)^2, (0.03 * 255)^2
        var la = Luma(a); var lb = Luma(b);
        int w = a.Width, h = a.Height, win = Math.Min(8, Math.Min(w, h)), step = Math.Max(1, win / 2);
        double total = 0; int count = 0;
        for (int y = 0; y + win <= h; y += step)
            for (int x = 0; x + win <= w; x += step)
            {
                double ma = 0, mb = 0;
                for (int j = 0; j < win; j++) for (int i = 0; i < win; i++) { ma += la[(y + j) * w + x
                    + i]; mb += lb[(y + j) * w + x + i]; }
                int n = win * win; ma /= n; mb /= n;
                double va = 0, vb = 0, cov = 0;
                for (int j = 0; j < win; j++)
                    for (int i = 0; i < win; i++)
                    {
                        double da = la[(y + j) * w + x + i] - ma, db = lb[(y + j) * w + x + i] - mb;
                        va += da * da; vb += db * db; cov += da * db;
                    }
                va /= n - 1; vb /= n - 1; cov /= n - 1;
                total += (2 * ma * mb + c1) * (2 * cov + c2) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
                count++;
            }
        return total / count;
    }

    private static double[] Luma(Frame f)
    {
        var l = new double[f.Width * f.Height];
        for (int p = 0; p < l.Length; p++) l[p] = 0.299 * f.Rgb[3 * p] + 0.587 * f.Rgb[3 * p + 1] + 0.114
            * f.Rgb[3 * p + 2];
        return l;
    }

    /// <summary>
    /// Mean absolute difference (in 0-255 levels) between the frame-to-frame changes of a reconstruction and of its
    /// source: 0 when the reconstruction moves exactly as the source does, large when it flickers.
    /// </summary>
    public static double TemporalConsistencyError(IReadOnlyList<Frame> source, IReadOnlyList<Frame> recon)
    {
        if (source.Count != recon.Count) throw new LongshotException("TemporalConsistencyError: clip lengths differ.");
        if (source.Count < 2) return 0;
        double sum = 0; long n = 0;
        for (int t = 1; t < source.Count; t++)
            for (int i = 0; i < source[t].Rgb.Length; i++)
            {
                int ds = source[t].Rgb[i] - source[t - 1].Rgb[i], dr = recon[t].Rgb[i] - recon[t - 1].Rgb[i];
                sum += Math.Abs(ds - dr); n++;
            }
        return sum / n;
    }
}
