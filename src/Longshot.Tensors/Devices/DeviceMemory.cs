namespace Longshot.Tensors.Devices;

/// <summary>
/// Elements of a tensor held by an accelerator: one allocation of float32 values that a backend's kernels read and
/// write. Freed when disposed, or by the finalizer of whatever the backend wraps.
/// </summary>
public abstract class DeviceMemory : IDisposable
{
    /// <summary>The device holding the elements.</summary>
    public abstract Device Device { get; }

    /// <summary>Number of float32 elements.</summary>
    public abstract long Length { get; }

    /// <summary>Copies elements [offset, offset + destination.Length) to the host (waiting for pending work).</summary>
    public abstract void CopyToHost(long offset, Span<float> destination);

    /// <summary>Copies host values into elements [offset, offset + source.Length).</summary>
    public abstract void CopyFromHost(long offset, ReadOnlySpan<float> source);

    public abstract void Dispose();
}

/// <summary>The unary elementwise ops with device kernels.</summary>
public enum DeviceUnaryOp { Neg, Exp, Log, Sqrt, Square, Abs, Relu, Sigmoid, Tanh, Silu, Gelu }

/// <summary>The binary elementwise ops with device kernels (broadcasting).</summary>
public enum DeviceBinaryOp { Add, Sub, Mul, Div }

/// <summary>A strided view of device memory: element offset, sizes and strides.</summary>
public sealed record DeviceView(DeviceMemory Memory, long Offset, int[] Shape, int[] Strides);

/// <summary>One 3-D convolution's geometry (1-D and 2-D use size-1 leading dimensions): input C x D x H x W, kernel,
/// stride and zero padding per dimension.</summary>
public sealed record DeviceConv(int C, int D, int H, int W, int KD, int KH, int KW, int SD, int SH, int SW, int PD,
    int PH, int PW)
{
    public int OD => (D + 2 * PD - KD) / SD + 1;
    public int OH => (H + 2 * PH - KH) / SH + 1;
    public int OW => (W + 2 * PW - KW) / SW + 1;
}

/// <summary>
/// A device: its memory and the primitives its kernels run, on memory of that device only. The engine's ops call
/// these for tensors on the device (<c>DeviceOps</c>); what has no primitive here runs on the CPU only so far.
/// </summary>
public interface IDeviceBackend
{
    /// <summary>The device this backend drives.</summary>
    Device Device { get; }

    /// <summary>A device name for messages (the driver's).</summary>
    string Name { get; }

    /// <summary>Uninitialised device memory of <paramref name="length"/> elements.</summary>
    DeviceMemory Allocate(long length);

    /// <summary>Every element of view <paramref name="source"/> to the same place of view
    /// <paramref name="destination"/> (same shape, rank at most 8; a source stride of 0 broadcasts).</summary>
    void Copy(DeviceView source, DeviceView destination);

    /// <summary>One sample's im2col columns [C*KD*KH*KW, OD*OH*OW] from contiguous x [C, D, H, W] at
    /// <paramref name="xOffset"/>.</summary>
    void Im2Col(DeviceMemory x, long xOffset, DeviceConv g, DeviceMemory cols);

    /// <summary>One sample's image [C, D, H, W] at <paramref name="imageOffset"/>, each element the sum of the
    /// column entries that read it (col2im).</summary>
    void Col2Im(DeviceMemory cols, DeviceConv g, DeviceMemory image, long imageOffset);

    /// <summary>Average pooling of contiguous x [C, D, H, W] (every sample's channels as C) over blocks of the kernel
    /// size, stride equal to it.</summary>
    void AvgPool(DeviceMemory x, long xOffset, DeviceConv g, DeviceMemory y);

    /// <summary>y[t, :] = table[ids[t], :] for a contiguous [rows, dim] table (ids checked by the caller).</summary>
    void Embedding(DeviceMemory table, long tableOffset, int[] ids, int dim, DeviceMemory y);

    /// <summary>Layer norm of each row of a contiguous [rows, cols] matrix with per-column gamma and beta.</summary>
    void LayerNorm(DeviceMemory x, long xOffset, DeviceMemory gamma, DeviceMemory beta, DeviceMemory y, int rows,
        int cols, float eps);

    /// <summary>y[i] = op(x[xOffset + i]) for i below n.</summary>
    void Unary(DeviceUnaryOp op, DeviceMemory x, long xOffset, DeviceMemory y, int n);

    /// <summary>y[i] = x[xOffset + i] * a + b for i below n.</summary>
    void Affine(DeviceMemory x, long xOffset, DeviceMemory y, int n, float a, float b);

    /// <summary>y = a op b over y's row-major shape (rank at most 4; the views' strides broadcast, 0 where an input is
    /// broadcast).</summary>
    void Binary(DeviceBinaryOp op, DeviceView a, DeviceView b, DeviceMemory y, int[] shape);

    /// <summary>C = alpha op(A) op(B) + beta C, row-major and contiguous, at element offsets.</summary>
    void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceMemory a, long aOffset,
        DeviceMemory b, long bOffset, float beta, DeviceMemory c, long cOffset);

    /// <summary>Softmax of each row of a contiguous [rows, cols] matrix.</summary>
    void Softmax(DeviceMemory x, long xOffset, DeviceMemory y, int rows, int cols);

    /// <summary>Group normalisation of contiguous x [n, channels, spatial] with per-channel gamma and beta, and SiLU
    /// after when asked.</summary>
    void GroupNorm(DeviceMemory x, long xOffset, DeviceMemory gamma, DeviceMemory beta, DeviceMemory y, int n,
        int channels, int spatial, int groups, float eps, bool silu);

    /// <summary>softmax(q k^T scale + bias, masked) v for contiguous q [b*h, lq, d], k [b*h, lk, d], v [b*h, lk, dv];
    /// bias and mask (1 attend, 0 blocked) broadcast to [b, h, lq, lk] through their strides. Each query's
    /// log-sum-exp of scores goes to <paramref name="lse"/> [b*h*lq] when given (the backward pass needs
    /// it).</summary>
    void Attention(DeviceMemory q, DeviceMemory k, DeviceMemory v, DeviceView? bias, DeviceView? mask,
        DeviceMemory y, int b, int h, int lq, int lk, int d, int dv, float scale, DeviceMemory? lse = null);

    // Backward primitives and the optimizer step. Memory arguments without an offset start at element 0.

    /// <summary>Every element of y[offset, offset + n) set to <paramref name="value"/>.</summary>
    void Fill(DeviceMemory y, long offset, int n, float value);

    /// <summary>y[r] = sum of row r of a contiguous [rows, cols] matrix.</summary>
    void SumRows(DeviceMemory x, long xOffset, DeviceMemory y, int rows, int cols);

    /// <summary>dx[i] = dy[i] * op'(x[i]) for i below n.</summary>
    void UnaryBackward(DeviceUnaryOp op, DeviceMemory x, DeviceMemory dy, DeviceMemory dx, int n);

    /// <summary>Softmax's backward per row from its output y: dx = y (dy - sum(dy y)).</summary>
    void SoftmaxBackward(DeviceMemory y, DeviceMemory dy, DeviceMemory dx, int rows, int cols);

    /// <summary>Group norm's backward (without SiLU) for x [n, channels, spatial]: dx, and per-sample gamma and beta
    /// gradients [n, channels] (the caller sums them over samples).</summary>
    void GroupNormBackward(DeviceMemory x, DeviceMemory dy, DeviceMemory gamma, DeviceMemory dx,
        DeviceMemory dGammaPart, DeviceMemory dBetaPart, int n, int channels, int spatial, int groups, float eps);

    /// <summary>Layer norm's dx over the last dimension of [rows, cols] (the parameter gradients are reductions the
    /// caller forms).</summary>
    void LayerNormBackward(DeviceMemory x, DeviceMemory dy, DeviceMemory gamma, DeviceMemory dx, int rows, int cols,
        float eps);

    /// <summary>dTable[ids[t], :] += dy[t, :] for a [rows, dim] table (ids checked by the caller).</summary>
    void EmbeddingBackward(int[] ids, DeviceMemory dy, int dim, DeviceMemory dTable);

    /// <summary>Attention's backward from the forward's output o and log-sum-exp: dq, dk, dv, and the scores'
    /// gradient [b*h, lq, lk] into <paramref name="dScores"/> when given (the bias gradient before any
    /// broadcast is summed away).</summary>
    void AttentionBackward(DeviceMemory q, DeviceMemory k, DeviceMemory v, DeviceView? bias, DeviceView? mask,
        DeviceMemory o, DeviceMemory dO, DeviceMemory lse, DeviceMemory dq, DeviceMemory dk, DeviceMemory dv,
        DeviceMemory? dScores, int b, int h, int lq, int lk, int d, int dvSize, float scale);

    /// <summary>One AdamW update of n parameters in place with their moments m and v.</summary>
    void AdamW(DeviceMemory p, long pOffset, DeviceMemory g, DeviceMemory m, DeviceMemory v, int n, AdamWConstants c);
}

/// <summary>One AdamW step's constants: moment decays, epsilon, lr / (1 - beta1^t), sqrt(1 - beta2^t) and the
/// decoupled weight decay factor 1 - lr * wd.</summary>
public readonly record struct AdamWConstants(float Beta1, float Beta2, float Eps, float StepSize,
    float SqrtBiasCorrection2, float Decay);

/// <summary>The backends of devices other than the CPU, registered at start-up (for CUDA:
/// <c>Longshot.Tensors.Cuda.CudaBackend.Register</c>).</summary>
public static class DeviceBackends
{
    private static readonly Dictionary<Device, IDeviceBackend> Registered = new();

    /// <summary>Makes <paramref name="backend"/> the one for its device (replacing an earlier one).</summary>
    public static void Register(IDeviceBackend backend)
    {
        lock (Registered) Registered[backend.Device] = backend;
    }

    /// <summary>Removes the backend of <paramref name="device"/> (tests, shutdown).</summary>
    public static void Unregister(Device device)
    {
        lock (Registered) Registered.Remove(device);
    }

    /// <summary>Whether a backend is registered for <paramref name="device"/>.</summary>
    public static bool IsRegistered(Device device)
    {
        lock (Registered) return Registered.ContainsKey(device);
    }

    /// <summary>The backend of <paramref name="device"/>; a <see cref="LongshotException"/> when none is
    /// registered.</summary>
    public static IDeviceBackend For(Device device)
    {
        lock (Registered)
            return Registered.TryGetValue(device, out var b) ? b
                : throw new LongshotException($"device {device}: no backend is registered for it (CUDA needs the " +
                    "Longshot.Tensors.Cuda backend and a GPU).");
    }
}
