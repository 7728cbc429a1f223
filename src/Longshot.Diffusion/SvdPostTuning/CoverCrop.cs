using Longshot.Diffusion.Svd;
using Longshot.Tensors;

namespace Longshot.Diffusion.SvdPostTuning;

/// <summary>Training clips brought to the training size as the authors' loader does: resized (antialiased) so the
/// frame covers the size, then cropped at the centre.</summary>
public static class CoverCrop
{
    /// <summary>Frames [F, 3, H, W] at <paramref name="width"/> x <paramref name="height"/> (unchanged when they
    /// already are).</summary>
    public static Tensor Fit(Tensor frames, int width, int height)
    {
        int f = frames.Shape[0], h = frames.Shape[2], w = frames.Shape[3];
        if (h == height && w == width) return frames.Contiguous();
        double scale = Math.Max((double)height / h, (double)width / w);
        int rh = Math.Max(height, (int)Math.Round(h * scale)), rw = Math.Max(width, (int)Math.Round(w * scale));
        int top = (rh - height) / 2, left = (rw - width) / 2;
        var fitted = new List<Tensor>(f);
        for (int i = 0; i < f; i++)
        {
            var resized = AntialiasedResize.Resize(frames.Narrow(0, i, 1).Squeeze(0), rh, rw);
            fitted.Add(resized.Narrow(1, top, height).Narrow(2, left, width).Unsqueeze(0));
        }
        return Ops.Concat(fitted, 0).Contiguous();
    }
}
