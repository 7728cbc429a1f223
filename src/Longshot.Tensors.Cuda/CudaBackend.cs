using ILGPU;
using ILGPU.Runtime;
using Longshot.Tensors.Cuda.Kernels;
using Longshot.Tensors.Devices;
using Device = Longshot.Tensors.Devices.Device;

namespace Longshot.Tensors.Cuda;

/// <summary>Device memory of the CUDA backend: one ILGPU buffer.</summary>
public sealed class CudaMemory : DeviceMemory
{
    private readonly GpuDevice _gpu;
    /// <summary>Bytes reported to the GC until released: a tensor's device memory is freed when the GC collects the
    /// small managed object holding it, so the GC is told how much it holds, and collects before the device fills.
    /// </summary>
    private long _pressure;

    /// <summary>The buffer the kernels read and write.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Buffer { get; }

    public override Device Device { get; }
    public override long Length => Buffer.Length;

    internal CudaMemory(GpuDevice gpu, Device device, long length)
    {
        _gpu = gpu;
        Device = device;
        Buffer = gpu.Accelerator.Allocate1D<float>(Math.Max(1, length));
        _pressure = Buffer.LengthInBytes;
        GC.AddMemoryPressure(_pressure);
    }

    ~CudaMemory() => ReleasePressure(); // the buffer frees its memory in its own finalizer

    private void ReleasePressure()
    {
        long bytes = Interlocked.Exchange(ref _pressure, 0);
        if (bytes > 0) GC.RemoveMemoryPressure(bytes);
    }

    public override void CopyToHost(long offset, Span<float> destination)
    {
        _gpu.Accelerator.Synchronize();
        ArrayView<float> all = Buffer.View;
        all.SubView(offset, destination.Length).CopyToCPU(destination);
    }

    public override void CopyFromHost(long offset, ReadOnlySpan<float> source)
    {
        ArrayView<float> all = Buffer.View;
        all.SubView(offset, source.Length).CopyFromCPU(source);
    }

    public override void Dispose()
    {
        Buffer.Dispose();
        ReleasePressure();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// The engine's CUDA device: memory on an ILGPU accelerator (a GPU through the CUDA driver, or the CPU accelerator
/// that runs the same kernels in tests), registered with <see cref="DeviceBackends"/> for a device cuda:N.
/// </summary>
public sealed class CudaBackend : IDeviceBackend
{
    /// <summary>The accelerator and its kernels.</summary>
    public GpuDevice Gpu { get; }

    public Device Device { get; }
    public string Name => Gpu.Name;

    private CudaBackend(GpuDevice gpu, Device device)
    {
        Gpu = gpu;
        Device = device;
    }

    /// <summary>Opens CUDA device <paramref name="ordinal"/> and registers it as cuda:N.</summary>
    public static CudaBackend Register(int ordinal = 0) => Register(GpuDevice.OpenCuda(ordinal), ordinal);

    /// <summary>Makes <paramref name="device"/> usable: a CUDA device not registered yet is opened and registered
    /// (a one-line error when there is none); the CPU needs nothing.</summary>
    public static void EnsureRegistered(Device device)
    {
        if (device.Kind == DeviceKind.Cuda && !DeviceBackends.IsRegistered(device)) Register(device.Ordinal);
    }

    /// <summary>Registers <paramref name="gpu"/> (any accelerator) as device cuda:<paramref name="ordinal"/>.</summary>
    public static CudaBackend Register(GpuDevice gpu, int ordinal)
    {
        var backend = new CudaBackend(gpu, Device.Cuda(ordinal));
        DeviceBackends.Register(backend);
        return backend;
    }

    public DeviceMemory Allocate(long length) => new CudaMemory(Gpu, Device, length);

    private GpuKernels K => Gpu.Kernels;

    private ArrayView<float> At(DeviceMemory m, long offset)
    {
        if (m is not CudaMemory c || c.Device != Device)
            throw new LongshotException($"{Device}: memory of {m.Device} passed to its kernels.");
        ArrayView<float> all = c.Buffer.View;
        return all.SubView(offset);
    }

    /// <summary><paramref name="values"/> padded in front with <paramref name="fill"/> to <paramref name="rank"/>
    /// dimensions (sizes with 1, strides with 0), as the kernels' fixed-rank geometries take them.</summary>
    private static int[] PadFront(int[] values, int rank, int fill)
    {
        if (values.Length > rank)
            throw new LongshotException($"{values.Length}-dimensional views exceed the kernel's {rank}.");
        return Enumerable.Repeat(fill, rank - values.Length).Concat(values).ToArray();
    }

    public void Copy(DeviceView source, DeviceView destination)
    {
        int[] d = PadFront(source.Shape, 8, 1), s = PadFront(source.Strides, 8, 0),
            t = PadFront(destination.Strides, 8, 0);
        K.Copy(At(source.Memory, source.Offset), At(destination.Memory, destination.Offset), new Copy8
        {
            D0 = d[0], D1 = d[1], D2 = d[2], D3 = d[3], D4 = d[4], D5 = d[5], D6 = d[6], D7 = d[7],
            S0 = s[0], S1 = s[1], S2 = s[2], S3 = s[3], S4 = s[4], S5 = s[5], S6 = s[6], S7 = s[7],
            T0 = t[0], T1 = t[1], T2 = t[2], T3 = t[3], T4 = t[4], T5 = t[5], T6 = t[6], T7 = t[7],
        });
    }

    private static ConvShape Shape(DeviceConv g) => new()
    {
        C = g.C, D = g.D, H = g.H, W = g.W, KD = g.KD, KH = g.KH, KW = g.KW, SD = g.SD, SH = g.SH, SW = g.SW,
        PD = g.PD, PH = g.PH, PW = g.PW, OD = g.OD, OH = g.OH, OW = g.OW,
    };

    public void Im2Col(DeviceMemory x, long xOffset, DeviceConv g, DeviceMemory cols) =>
        K.Im2Col(At(x, xOffset), At(cols, 0), Shape(g));

    public void Col2Im(DeviceMemory cols, DeviceConv g, DeviceMemory image, long imageOffset) =>
        K.Col2Im(At(cols, 0), At(image, imageOffset), Shape(g));

    public void AvgPool(DeviceMemory x, long xOffset, DeviceConv g, DeviceMemory y) =>
        K.AvgPool(At(x, xOffset), At(y, 0), Shape(g));

    public void Embedding(DeviceMemory table, long tableOffset, int[] ids, int dim, DeviceMemory y) =>
        WithIds(ids, g => K.Embedding(g, At(table, tableOffset), At(y, 0), dim));

    /// <summary>Runs a kernel on <paramref name="ids"/> uploaded to the device, waiting for it before their buffer
    /// is freed (nothing for no ids).</summary>
    private void WithIds(int[] ids, Action<ArrayView<int>> run)
    {
        if (ids.Length == 0) return;
        using var gids = Gpu.Accelerator.Allocate1D(ids);
        run(gids.View);
        Gpu.Accelerator.Synchronize();
    }

    public void LayerNorm(DeviceMemory x, long xOffset, DeviceMemory gamma, DeviceMemory beta, DeviceMemory y,
        int rows, int cols, float eps) =>
        K.LayerNorm(At(x, xOffset), At(gamma, 0), At(beta, 0), At(y, 0), rows, cols, eps);

    public void Unary(DeviceUnaryOp op, DeviceMemory x, long xOffset, DeviceMemory y, int n) =>
        K.Unary((UnaryOp)op, At(x, xOffset).SubView(0, n), At(y, 0));

    public void Affine(DeviceMemory x, long xOffset, DeviceMemory y, int n, float a, float b) =>
        K.Affine(At(x, xOffset).SubView(0, n), At(y, 0), a, b);

    public void Binary(DeviceBinaryOp op, DeviceView a, DeviceView b, DeviceMemory y, int[] shape)
    {
        int[] d = PadFront(shape, 4, 1), sa = PadFront(a.Strides, 4, 0), sb = PadFront(b.Strides, 4, 0);
        K.Binary((BinaryOp)op, At(a.Memory, a.Offset), At(b.Memory, b.Offset), At(y, 0), new Broadcast4
        {
            D0 = d[0], D1 = d[1], D2 = d[2], D3 = d[3], A0 = sa[0], A1 = sa[1], A2 = sa[2], A3 = sa[3],
            B0 = sb[0], B1 = sb[1], B2 = sb[2], B3 = sb[3],
        });
    }

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceMemory a, long aOffset,
        DeviceMemory b, long bOffset, float beta, DeviceMemory c, long cOffset)
    {
        var shape = new GemmShape { M = m, N = n, K = k, TransA = transA ? 1 : 0, TransB = transB ? 1 : 0,
            Alpha = alpha, Beta = beta };
        if (Gpu.Blas is { } blas)
            blas.Gemm(transA, transB, m, n, k, alpha, At(a, aOffset), At(b, bOffset), beta, At(c, cOffset));
        else if (Gpu.IsCuda) K.Gemm(At(a, aOffset), At(b, bOffset), At(c, cOffset), shape);
        else K.GemmDirect(At(a, aOffset), At(b, bOffset), At(c, cOffset), shape);
    }

    public void Softmax(DeviceMemory x, long xOffset, DeviceMemory y, int rows, int cols) =>
        K.Softmax(At(x, xOffset), At(y, 0), rows, cols);

    public void GroupNorm(DeviceMemory x, long xOffset, DeviceMemory gamma, DeviceMemory beta, DeviceMemory y, int n,
        int channels, int spatial, int groups, float eps, bool silu)
    {
        // The statistics the backward pass would keep; inference drops them once the kernel is done.
        using var mean = Gpu.Zeros(n * groups);
        using var rstd = Gpu.Zeros(n * groups);
        K.GroupNorm(At(x, xOffset), At(gamma, 0), At(beta, 0), At(y, 0), mean.View, rstd.View, n, channels, spatial,
            groups, eps, silu);
        Gpu.Accelerator.Synchronize();
    }

    /// <summary>The kernels' geometry of one attention call, with the bias's and mask's broadcast strides.</summary>
    private static AttentionShape AttentionGeometry(DeviceView? bias, DeviceView? mask, int b, int h, int lq, int lk,
        int d, int dv, float scale)
    {
        var s = new AttentionShape { B = b, H = h, Lq = lq, Lk = lk, D = d, Dv = dv, Scale = scale };
        if (bias is { } bv)
            s = s with { HasBias = 1, BiasB = bv.Strides[0], BiasH = bv.Strides[1], BiasQ = bv.Strides[2],
                BiasK = bv.Strides[3] };
        if (mask is { } mv)
            s = s with { HasMask = 1, MaskB = mv.Strides[0], MaskH = mv.Strides[1], MaskQ = mv.Strides[2],
                MaskK = mv.Strides[3] };
        return s;
    }

    public void Attention(DeviceMemory q, DeviceMemory k, DeviceMemory v, DeviceView? bias, DeviceView? mask,
        DeviceMemory y, int b, int h, int lq, int lk, int d, int dv, float scale, DeviceMemory? lse = null)
    {
        using var scratch = lse == null ? Gpu.Zeros((long)b * h * lq) : null;
        using var none = Gpu.Zeros(1);
        K.Attention(At(q, 0), At(k, 0), At(v, 0), bias is { } bb ? At(bb.Memory, bb.Offset) : none.View,
            mask is { } mm ? At(mm.Memory, mm.Offset) : none.View, At(y, 0), lse != null ? At(lse, 0) : scratch!.View,
            AttentionGeometry(bias, mask, b, h, lq, lk, d, dv, scale));
        Gpu.Accelerator.Synchronize();
    }

    public void Fill(DeviceMemory y, long offset, int n, float value) => K.Fill(At(y, offset).SubView(0, n), value);

    public void SumRows(DeviceMemory x, long xOffset, DeviceMemory y, int rows, int cols)
    {
        if (rows > 0) K.SumRows(At(x, xOffset), At(y, 0), rows, cols);
    }

    public void UnaryBackward(DeviceUnaryOp op, DeviceMemory x, DeviceMemory dy, DeviceMemory dx, int n) =>
        K.UnaryBackward((UnaryOp)op, At(x, 0).SubView(0, n), At(dy, 0), At(dx, 0));

    public void SoftmaxBackward(DeviceMemory y, DeviceMemory dy, DeviceMemory dx, int rows, int cols) =>
        K.SoftmaxBackward(At(y, 0), At(dy, 0), At(dx, 0), rows, cols);

    public void GroupNormBackward(DeviceMemory x, DeviceMemory dy, DeviceMemory gamma, DeviceMemory dx,
        DeviceMemory dGammaPart, DeviceMemory dBetaPart, int n, int channels, int spatial, int groups, float eps)
    {
        // The statistics are recomputed by the forward kernel (its output goes to dx, overwritten next).
        using var mean = Gpu.Zeros(n * groups);
        using var rstd = Gpu.Zeros(n * groups);
        using var zero = Gpu.Zeros(channels);
        K.GroupNorm(At(x, 0), At(gamma, 0), zero.View, At(dx, 0), mean.View, rstd.View, n, channels, spatial, groups,
            eps, false);
        K.GroupNormBackward(At(x, 0), At(dy, 0), At(gamma, 0), mean.View, rstd.View, At(dx, 0), At(dGammaPart, 0),
            At(dBetaPart, 0), n, channels, spatial, groups);
        Gpu.Accelerator.Synchronize();
    }

    public void LayerNormBackward(DeviceMemory x, DeviceMemory dy, DeviceMemory gamma, DeviceMemory dx, int rows,
        int cols, float eps) =>
        K.LayerNormBackward(At(x, 0), At(dy, 0), At(gamma, 0), At(dx, 0), rows, cols, eps);

    public void EmbeddingBackward(int[] ids, DeviceMemory dy, int dim, DeviceMemory dTable) =>
        WithIds(ids, g => K.EmbeddingBackward(g, At(dy, 0), At(dTable, 0), dim));

    public void AttentionBackward(DeviceMemory q, DeviceMemory k, DeviceMemory v, DeviceView? bias,
        DeviceView? mask, DeviceMemory o, DeviceMemory dO, DeviceMemory lse, DeviceMemory dq, DeviceMemory dk,
        DeviceMemory dv, DeviceMemory? dScores, int b, int h, int lq, int lk, int d, int dvSize, float scale)
    {
        int rows = b * h * lq;
        using var none = Gpu.Zeros(1);
        using var product = Gpu.Zeros((long)rows * dvSize);
        using var delta = Gpu.Zeros(rows);
        // delta_i = sum(dO_i * O_i), each query's correction term.
        var shape = new Broadcast4 { D0 = 1, D1 = 1, D2 = rows, D3 = dvSize, A2 = dvSize, A3 = 1, B2 = dvSize, B3 = 1 };
        K.Binary(BinaryOp.Mul, At(dO, 0), At(o, 0), product.View, shape);
        K.SumRows(product.View, delta.View, rows, dvSize);
        K.AttentionBackward(At(q, 0), At(k, 0), At(v, 0), bias is { } bb ? At(bb.Memory, bb.Offset) : none.View,
            mask is { } mm ? At(mm.Memory, mm.Offset) : none.View, At(dO, 0), At(lse, 0), delta.View, At(dq, 0),
            At(dk, 0), At(dv, 0), dScores != null ? At(dScores, 0) : none.View, dScores != null,
            AttentionGeometry(bias, mask, b, h, lq, lk, d, dvSize, scale));
        Gpu.Accelerator.Synchronize();
    }

    public void AdamW(DeviceMemory p, long pOffset, DeviceMemory g, DeviceMemory m, DeviceMemory v, int n,
        AdamWConstants c) =>
        K.AdamW(At(p, pOffset).SubView(0, n), At(g, 0).SubView(0, n), At(m, 0).SubView(0, n), At(v, 0).SubView(0, n),
            new AdamWStep { Beta1 = c.Beta1, Beta2 = c.Beta2, Eps = c.Eps, StepSize = c.StepSize,
                SqrtBiasCorrection2 = c.SqrtBiasCorrection2, Decay = c.Decay });
}
