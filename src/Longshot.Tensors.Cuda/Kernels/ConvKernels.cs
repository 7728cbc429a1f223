using ILGPU;

namespace Longshot.Tensors.Cuda.Kernels;

/// <summary>One 3-D convolution's geometry (1-D and 2-D use size-1 leading dimensions): input C x D x H x W, kernel
/// KD x KH x KW, stride, zero padding, output OD x OH x OW.</summary>
public struct ConvShape
{
    public int C, D, H, W, KD, KH, KW, SD, SH, SW, PD, PH, PW, OD, OH, OW;
}

/// <summary>
/// Convolution as GEMM: im2col writes one sample's columns [C*KD*KH*KW, OD*OH*OW] (zero where the kernel reads
/// padding), and col2im sums columns back into an image, each output element gathering the column entries that land
/// on it (no atomics: the transposed convolution and the input gradient).
/// </summary>
internal static class ConvKernels
{
    public static void Im2Col(Index1D i, ArrayView<float> x, ArrayView<float> cols, ConvShape g)
    {
        int p = g.OD * g.OH * g.OW, row = i / p, col = i % p;
        int kx = row % g.KW, ky = row / g.KW % g.KH, kz = row / (g.KW * g.KH) % g.KD, c = row / (g.KW * g.KH * g.KD);
        int ox = col % g.OW, oy = col / g.OW % g.OH, oz = col / (g.OW * g.OH);
        int iz = oz * g.SD - g.PD + kz, iy = oy * g.SH - g.PH + ky, ix = ox * g.SW - g.PW + kx;
        bool inside = iz >= 0 && iz < g.D && iy >= 0 && iy < g.H && ix >= 0 && ix < g.W;
        cols[i] = inside ? x[((c * g.D + iz) * g.H + iy) * g.W + ix] : 0f;
    }

    /// <summary>image[c, z, y, x] = the sum of the column entries whose kernel tap reads (z, y, x).</summary>
    public static void Col2Im(Index1D i, ArrayView<float> cols, ArrayView<float> image, ConvShape g)
    {
        int x = i % g.W, y = i / g.W % g.H, z = i / (g.W * g.H) % g.D, c = i / (g.W * g.H * g.D);
        int p = g.OD * g.OH * g.OW;
        float sum = 0f;
        for (int kz = 0; kz < g.KD; kz++)
        {
            int tz = z + g.PD - kz;
            if (tz < 0 || tz % g.SD != 0 || tz / g.SD >= g.OD) continue;
            for (int ky = 0; ky < g.KH; ky++)
            {
                int ty = y + g.PH - ky;
                if (ty < 0 || ty % g.SH != 0 || ty / g.SH >= g.OH) continue;
                for (int kx = 0; kx < g.KW; kx++)
                {
                    int tx = x + g.PW - kx;
                    if (tx < 0 || tx % g.SW != 0 || tx / g.SW >= g.OW) continue;
                    int row = ((c * g.KD + kz) * g.KH + ky) * g.KW + kx;
                    sum += cols[row * p + (tz / g.SD * g.OH + ty / g.SH) * g.OW + tx / g.SW];
                }
            }
        }
        image[i] = sum;
    }

    /// <summary>Average pooling with kernel = stride (no padding): y[c, z, y, x] is the mean of its KD x KH x KW
    /// block of x [C, D, H, W] (all samples as one C).</summary>
    public static void AvgPool(Index1D i, ArrayView<float> x, ArrayView<float> y, ConvShape g)
    {
        int ox = i % g.OW, oy = i / g.OW % g.OH, oz = i / (g.OW * g.OH) % g.OD, c = i / (g.OW * g.OH * g.OD);
        float sum = 0f;
        for (int kz = 0; kz < g.KD; kz++)
            for (int ky = 0; ky < g.KH; ky++)
                for (int kx = 0; kx < g.KW; kx++)
                    sum += x[((c * g.D + oz * g.KD + kz) * g.H + oy * g.KH + ky) * g.W + ox * g.KW + kx];
        y[i] = sum / (g.KD * g.KH * g.KW);
    }
}
