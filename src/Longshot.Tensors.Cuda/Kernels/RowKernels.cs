using ILGPU;

namespace Longshot.Tensors.Cuda.Kernels;

/// <summary>
/// Kernels over rows: one thread group per row (or per normalisation group), its threads striding over the row and
/// combining partial results in shared memory. The group size is a power of two up to <see cref="MaxGroup"/>.
/// </summary>
internal static class RowKernels
{
    public const int MaxGroup = 256;

    /// <summary>The sum of every thread's <paramref name="v"/>, returned to all threads of the group.</summary>
    private static float GroupSum(ArrayView<float> scratch, float v)
    {
        int t = Group.IdxX;
        scratch[t] = v;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) scratch[t] += scratch[t + s];
            Group.Barrier();
        }
        float total = scratch[0];
        Group.Barrier();
        return total;
    }

    /// <summary>The maximum of every thread's <paramref name="v"/>, returned to all threads of the group.</summary>
    private static float GroupMax(ArrayView<float> scratch, float v)
    {
        int t = Group.IdxX;
        scratch[t] = v;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s && scratch[t + s] > scratch[t]) scratch[t] = scratch[t + s];
            Group.Barrier();
        }
        float m = scratch[0];
        Group.Barrier();
        return m;
    }

    /// <summary>The mean of x[start, start + count), over the group's threads.</summary>
    private static float GroupMean(ArrayView<float> scratch, ArrayView<float> x, int start, int count)
    {
        float sum = 0;
        for (int i = Group.IdxX; i < count; i += Group.DimX) sum += x[start + i];
        return GroupSum(scratch, sum) / count;
    }

    /// <summary>1 / sqrt(variance + eps) of x[start, start + count) around <paramref name="mu"/>.</summary>
    private static float GroupRstd(ArrayView<float> scratch, ArrayView<float> x, int start, int count, float mu,
        float eps)
    {
        float sq = 0;
        for (int i = Group.IdxX; i < count; i += Group.DimX)
        {
            float d = x[start + i] - mu;
            sq += d * d;
        }
        return 1f / MathF.Sqrt(GroupSum(scratch, sq) / count + eps);
    }

    /// <summary>y[row] = sum of x[row, :] for a [rows, cols] matrix.</summary>
    public static void SumRows(ArrayView<float> x, ArrayView<float> y, int cols)
    {
        var scratch = SharedMemory.Allocate<float>(MaxGroup);
        int row = Grid.IdxX;
        float acc = 0;
        for (int c = Group.IdxX; c < cols; c += Group.DimX) acc += x[row * cols + c];
        float total = GroupSum(scratch, acc);
        if (Group.IdxX == 0) y[row] = total;
    }

    /// <summary>Softmax of each row of a [rows, cols] matrix.</summary>
    public static void Softmax(ArrayView<float> x, ArrayView<float> y, int cols)
    {
        var scratch = SharedMemory.Allocate<float>(MaxGroup);
        int row = Grid.IdxX, t = Group.IdxX, n = Group.DimX;
        float m = float.NegativeInfinity;
        for (int c = t; c < cols; c += n) m = MathF.Max(m, x[row * cols + c]);
        m = GroupMax(scratch, m);
        float sum = 0;
        for (int c = t; c < cols; c += n)
        {
            float e = MathF.Exp(x[row * cols + c] - m);
            y[row * cols + c] = e;
            sum += e;
        }
        float inv = 1f / GroupSum(scratch, sum);
        for (int c = t; c < cols; c += n) y[row * cols + c] *= inv;
    }

    /// <summary>Softmax's backward from its output y: dx = y * (dy - sum(dy * y)) per row.</summary>
    public static void SoftmaxBackward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int cols)
    {
        var scratch = SharedMemory.Allocate<float>(MaxGroup);
        int row = Grid.IdxX, t = Group.IdxX, n = Group.DimX;
        float dot = 0;
        for (int c = t; c < cols; c += n) dot += y[row * cols + c] * dy[row * cols + c];
        dot = GroupSum(scratch, dot);
        for (int c = t; c < cols; c += n) dx[row * cols + c] = y[row * cols + c] * (dy[row * cols + c] - dot);
    }

    /// <summary>
    /// Group normalisation of x [n, channels, spatial] over <paramref name="groups"/> groups of channels, one thread
    /// group per (sample, group): y = (x - mean) * rstd * gamma[c] + beta[c], then SiLU when <paramref name="silu"/>
    /// is 1 (the fused form the UNet's resnet blocks use). Mean and 1/std are kept for the backward pass.
    /// </summary>
    public static void GroupNorm(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> y, ArrayView<float> mean, ArrayView<float> rstd, int channels, int spatial, int groups,
        float eps, int silu)
    {
        var scratch = SharedMemory.Allocate<float>(MaxGroup);
        int ng = Grid.IdxX, t = Group.IdxX, n = Group.DimX;
        int per = channels / groups, count = per * spatial;
        int start = (ng / groups * channels + ng % groups * per) * spatial;
        float mu = GroupMean(scratch, x, start, count);
        float r = GroupRstd(scratch, x, start, count, mu, eps);
        int c0 = ng % groups * per;
        for (int i = t; i < count; i += n)
        {
            int c = c0 + i / spatial;
            float v = (x[start + i] - mu) * r * gamma[c] + beta[c];
            y[start + i] = silu == 1 ? v / (1f + MathF.Exp(-v)) : v;
        }
        if (t == 0)
        {
            mean[ng] = mu;
            rstd[ng] = r;
        }
    }

    /// <summary>
    /// Group normalisation's backward (without the SiLU, which the caller's backward applies first): dx per
    /// (sample, group), and each thread group's partial gamma and beta gradients per channel, summed over samples by
    /// the caller ([n, channels] each).
    /// </summary>
    public static void GroupNormBackward(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> gamma,
        ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dx, ArrayView<float> dGammaPart,
        ArrayView<float> dBetaPart, int channels, int spatial, int groups)
    {
        var scratch = SharedMemory.Allocate<float>(MaxGroup);
        int ng = Grid.IdxX, t = Group.IdxX, n = Group.DimX;
        int per = channels / groups, count = per * spatial, c0 = ng % groups * per, sample = ng / groups;
        int start = (sample * channels + c0) * spatial;
        float mu = mean[ng], r = rstd[ng];
        // With xhat = (x - mu) r and g = dy gamma: dx = r (g - mean(g) - xhat mean(g xhat)).
        float sg = 0, sgx = 0;
        for (int i = t; i < count; i += n)
        {
            float g = dy[start + i] * gamma[c0 + i / spatial];
            sg += g;
            sgx += g * (x[start + i] - mu) * r;
        }
        float meanG = GroupSum(scratch, sg) / count, meanGx = GroupSum(scratch, sgx) / count;
        for (int i = t; i < count; i += n)
        {
            float xhat = (x[start + i] - mu) * r;
            dx[start + i] = r * (dy[start + i] * gamma[c0 + i / spatial] - meanG - xhat * meanGx);
        }
        // Per-channel parameter gradients of this sample: one channel per thread, in turn.
        for (int c = t; c < per; c += n)
        {
            float dg = 0, db = 0;
            for (int s = 0; s < spatial; s++)
            {
                int k = start + c * spatial + s;
                dg += dy[k] * (x[k] - mu) * r;
                db += dy[k];
            }
            dGammaPart[sample * channels + c0 + c] = dg;
            dBetaPart[sample * channels + c0 + c] = db;
        }
    }

    /// <summary>Layer normalisation of each row of a [rows, cols] matrix with per-column gamma and beta.</summary>
    public static void LayerNorm(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> y, int cols, float eps)
    {
        var scratch = SharedMemory.Allocate<float>(MaxGroup);
        int row = Grid.IdxX, t = Group.IdxX, n = Group.DimX;
        float mu = GroupMean(scratch, x, row * cols, cols);
        float r = GroupRstd(scratch, x, row * cols, cols, mu, eps);
        for (int c = t; c < cols; c += n) y[row * cols + c] = (x[row * cols + c] - mu) * r * gamma[c] + beta[c];
    }

    /// <summary>
    /// Layer normalisation's backward for dx, one thread group per row of [rows, cols]: the row's mean and 1/std are
    /// recomputed, and with xhat = (x - mu) r and g = dy gamma, dx = r (g - mean(g) - xhat mean(g xhat)). The
    /// per-column gamma and beta gradients are sums over rows, which the caller forms with its reductions.
    /// </summary>
    public static void LayerNormBackward(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> gamma,
        ArrayView<float> dx, int cols, float eps)
    {
        var scratch = SharedMemory.Allocate<float>(MaxGroup);
        int row = Grid.IdxX, t = Group.IdxX, n = Group.DimX, start = row * cols;
        float mu = GroupMean(scratch, x, start, cols);
        float r = GroupRstd(scratch, x, start, cols, mu, eps);
        float sg = 0, sgx = 0;
        for (int c = t; c < cols; c += n)
        {
            float g = dy[start + c] * gamma[c];
            sg += g;
            sgx += g * (x[start + c] - mu) * r;
        }
        float meanG = GroupSum(scratch, sg) / cols, meanGx = GroupSum(scratch, sgx) / cols;
        for (int c = t; c < cols; c += n)
            dx[start + c] = r * (dy[start + c] * gamma[c] - meanG - (x[start + c] - mu) * r * meanGx);
    }
}
