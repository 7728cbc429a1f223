using Longshot.Tensors;

namespace Longshot.Diffusion.Svd;

/// <summary>
/// Stable Video Diffusion's image resize for the CLIP branch (diffusers' _resize_with_antialiasing): a separable
/// Gaussian blur with sigma (factor - 1) / 2 and reflect padding, then bicubic interpolation (A = -0.75) with
/// align_corners, as torch.nn.functional.interpolate computes it. Used on images [C, H, W].
/// </summary>
public static class AntialiasedResize
{
    /// <summary>The image [C, H, W] resized to [C, height, width].</summary>
    public static Tensor Resize(Tensor image, int height, int width)
    {
        if (image.Rank != 3) throw new ArgumentException("AntialiasedResize: expected an image [C, H, W].");
        int c = image.Shape[0], h = image.Shape[1], w = image.Shape[2];
        double fy = (double)h / height, fx = (double)w / width;
        float sy = (float)Math.Max((fy - 1) / 2, 0.001), sx = (float)Math.Max((fx - 1) / 2, 0.001);
        int ky = Odd((int)Math.Max(2.0 * 2 * sy, 3)), kx = Odd((int)Math.Max(2.0 * 2 * sx, 3));
        var src = image.Contiguous().ToArray();
        var blurred = new float[src.Length];
        var tmp = new float[src.Length];
        for (int ch = 0; ch < c; ch++)
        {
            var plane = new Span<float>(src, ch * h * w, h * w);
            BlurRows(plane, new Span<float>(tmp, ch * h * w, h * w), h, w, Gaussian(kx, sx));
            BlurColumns(new Span<float>(tmp, ch * h * w, h * w), new Span<float>(blurred, ch * h * w, h * w), h, w,
                Gaussian(ky, sy));
        }
        var result = new float[c * height * width];
        for (int ch = 0; ch < c; ch++)
            Bicubic(new ReadOnlySpan<float>(blurred, ch * h * w, h * w), h, w,
                new Span<float>(result, ch * height * width, height * width), height, width);
        return Tensor.FromArray(result, c, height, width);
    }

    private static int Odd(int k) => k % 2 == 0 ? k + 1 : k;

    /// <summary>A normalised Gaussian window of odd size, in float32 as the reference computes it.</summary>
    private static float[] Gaussian(int size, float sigma)
    {
        var g = new float[size];
        float sum = 0;
        for (int i = 0; i < size; i++)
        {
            float x = i - size / 2;
            g[i] = MathF.Exp(-(x * x) / (2 * (sigma * sigma)));
            sum += g[i];
        }
        for (int i = 0; i < size; i++) g[i] /= sum;
        return g;
    }

    private static int Reflect(int i, int n) => n == 1 ? 0 : i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;

    private static void BlurRows(ReadOnlySpan<float> src, Span<float> dst, int h, int w, float[] k)
    {
        int r = k.Length / 2;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float acc = 0;
                for (int t = 0; t < k.Length; t++) acc += k[t] * src[y * w + Reflect(x + t - r, w)];
                dst[y * w + x] = acc;
            }
    }

    private static void BlurColumns(ReadOnlySpan<float> src, Span<float> dst, int h, int w, float[] k)
    {
        int r = k.Length / 2;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float acc = 0;
                for (int t = 0; t < k.Length; t++) acc += k[t] * src[Reflect(y + t - r, h) * w + x];
                dst[y * w + x] = acc;
            }
    }

    /// <summary>PyTorch's bicubic interpolation with align_corners=True (indices clamped at the border).</summary>
    private static void Bicubic(ReadOnlySpan<float> src, int h, int w, Span<float> dst, int oh, int ow)
    {
        float scaleY = oh > 1 ? (float)(h - 1) / (oh - 1) : 0, scaleX = ow > 1 ? (float)(w - 1) / (ow - 1) : 0;
        Span<float> wy = stackalloc float[4], wx = stackalloc float[4];
        for (int oy = 0; oy < oh; oy++)
        {
            float realY = scaleY * oy;
            int iy = (int)MathF.Floor(realY);
            Weights(realY - iy, wy);
            for (int ox = 0; ox < ow; ox++)
            {
                float realX = scaleX * ox;
                int ix = (int)MathF.Floor(realX);
                Weights(realX - ix, wx);
                float acc = 0;
                for (int a = 0; a < 4; a++)
                {
                    int yy = Math.Clamp(iy - 1 + a, 0, h - 1);
                    float row = 0;
                    for (int b = 0; b < 4; b++) row += wx[b] * src[yy * w + Math.Clamp(ix - 1 + b, 0, w - 1)];
                    acc += wy[a] * row;
                }
                dst[oy * ow + ox] = acc;
            }
        }
    }

    /// <summary>The cubic convolution weights (A = -0.75) of the four taps around a fractional position.</summary>
    private static void Weights(float t, Span<float> w)
    {
        const float A = -0.75f;
        float x1 = t + 1, x2 = 1 - t, x3 = 2 - t;
        w[0] = ((A * x1 - 5 * A) * x1 + 8 * A) * x1 - 4 * A;
        w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
        w[2] = ((A + 2) * x2 - (A + 3)) * x2 * x2 + 1;
        w[3] = ((A * x3 - 5 * A) * x3 + 8 * A) * x3 - 4 * A;
    }
}
