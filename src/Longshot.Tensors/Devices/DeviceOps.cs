using Longshot.Tensors.Kernels;

namespace Longshot.Tensors.Devices;

/// <summary>
/// The engine's ops on tensors that live on a device: they check that every input is on the same device, then run
/// the device backend's primitive, the output staying on the device. The op records itself in the graph as on the CPU,
/// with a device context where its backward rule needs one (<c>DeviceGradients.cs</c>).
/// </summary>
internal static partial class DeviceOps
{
    /// <summary>The backend of the device every input is on; null when all are on the CPU (checked without
    /// allocating: every CPU op asks). Inputs on different devices are an error naming both.</summary>
    public static IDeviceBackend? Backend(string op, Tensor a) => a.Buffer.Memory == null ? null : Resolve(op, a);

    public static IDeviceBackend? Backend(string op, Tensor a, Tensor b) =>
        a.Buffer.Memory == null && b.Buffer.Memory == null ? null : Resolve(op, a, b);

    public static IDeviceBackend? Backend(string op, params Tensor?[] inputs) =>
        inputs.All(t => t?.Buffer.Memory == null) ? null : Resolve(op, inputs);

    public static IDeviceBackend? Backend(string op, IReadOnlyList<Tensor> inputs) =>
        inputs.All(t => t.Buffer.Memory == null) ? null : Resolve(op, inputs.ToArray());

    private static IDeviceBackend Resolve(string op, params Tensor?[] inputs)
    {
        Device? device = null;
        foreach (var t in inputs)
        {
            if (t == null) continue;
            var d = t.Device;
            if (device is { } seen && seen != d)
                throw new LongshotException($"{op}: inputs on {seen} and {d}; move them to one device with ToDevice " +
                    "first.");
            device = d;
        }
        return DeviceBackends.For(device!.Value);
    }

    /// <summary>An uninitialised contiguous tensor on the backend's device.</summary>
    public static Tensor Empty(IDeviceBackend be, params int[] shape) =>
        new(new TensorBuffer(be.Allocate(ShapeUtil.Numel(shape))), shape, ShapeUtil.ContiguousStrides(shape), 0);

    private static DeviceView View(Tensor t, int[] strides) => new(t.Buffer.Memory!, t.Offset, t.Shape, strides);

    /// <summary>A contiguous copy of a device tensor (itself when already contiguous).</summary>
    public static Tensor Contiguous(IDeviceBackend be, Tensor x) => x.IsContiguous ? x : Copy(be, x);

    /// <summary>The values of <paramref name="src"/> (any device) copied into device tensor
    /// <paramref name="dst"/>'s elements in place.</summary>
    public static void CopyInto(Tensor dst, Tensor src)
    {
        var be = DeviceBackends.For(dst.Device);
        var s = src.ToDevice(dst.Device);
        be.Copy(View(s, s.Strides), View(dst, dst.Strides));
    }

    /// <summary>A contiguous copy on the device, never sharing memory with <paramref name="x"/>.</summary>
    public static Tensor Copy(IDeviceBackend be, Tensor x)
    {
        var y = Empty(be, (int[])x.Shape.Clone());
        be.Copy(View(x, x.Strides), View(y, y.Strides));
        return y;
    }

    public static Tensor Unary(IDeviceBackend be, DeviceUnaryOp op, Tensor x)
    {
        x = Contiguous(be, x);
        var y = Empty(be, (int[])x.Shape.Clone());
        be.Unary(op, x.Buffer.Memory!, x.Offset, y.Buffer.Memory!, x.Numel);
        return y;
    }

    public static Tensor Affine(IDeviceBackend be, Tensor x, float a, float b)
    {
        x = Contiguous(be, x);
        var y = Empty(be, (int[])x.Shape.Clone());
        be.Affine(x.Buffer.Memory!, x.Offset, y.Buffer.Memory!, x.Numel, a, b);
        return y;
    }

    public static Tensor Binary(IDeviceBackend be, string opName, DeviceBinaryOp op, Tensor a, Tensor b)
    {
        var shape = ShapeUtil.Broadcast(opName, a.Shape, b.Shape);
        var y = Empty(be, shape);
        var (dims, sa, sb) = Coalesce(shape, Elementwise.BroadcastStrides(a, shape), Elementwise.BroadcastStrides(b,
            shape));
        RequireRank4(opName, dims, shape);
        be.Binary(op, new DeviceView(a.Buffer.Memory!, a.Offset, dims, sa),
            new DeviceView(b.Buffer.Memory!, b.Offset, dims, sb), y.Buffer.Memory!, dims);
        return y;
    }

    /// <summary>The output shape with neighbouring dimensions merged wherever both inputs step through them as one
    /// (a 5-D activation plus a per-channel bias becomes 3-D), so the kernels' four dimensions cover more.</summary>
    private static (int[] Shape, int[] A, int[] B) Coalesce(int[] shape, int[] sa, int[] sb)
    {
        var dims = new List<int>(); var a = new List<int>(); var b = new List<int>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1) continue;
            int last = dims.Count - 1;
            if (last >= 0 && a[last] == sa[i] * shape[i] && b[last] == sb[i] * shape[i])
            {
                dims[last] *= shape[i];
                a[last] = sa[i];
                b[last] = sb[i];
                continue;
            }
            dims.Add(shape[i]); a.Add(sa[i]); b.Add(sb[i]);
        }
        if (dims.Count == 0) { dims.Add(1); a.Add(0); b.Add(0); }
        return (dims.ToArray(), a.ToArray(), b.ToArray());
    }

    /// <summary>[..., m, k] x [..., k, n] with equal batch dimensions, or one side a plain matrix shared by every
    /// batch of the other (no other batch broadcasting on a device yet).</summary>
    public static Tensor MatMul(IDeviceBackend be, Tensor a, Tensor b)
    {
        bool aShared = a.Rank == 2 && b.Rank > 2, bShared = b.Rank == 2 && a.Rank > 2;
        var batchShape = aShared ? b.Shape[..^2] : a.Shape[..^2];
        if (a.Rank < 2 || b.Rank < 2 || a.Shape[^1] != b.Shape[^2]
            || !(aShared || bShared || (a.Rank == b.Rank && batchShape.SequenceEqual(b.Shape[..^2]))))
            throw new LongshotException($"MatMul on {be.Device}: needs [..., m, k] and [..., k, n] with the same " +
                $"batch dimensions (or one plain matrix), got {ShapeUtil.Str(a.Shape)} and {ShapeUtil.Str(b.Shape)}.");
        a = Contiguous(be, a); b = Contiguous(be, b);
        int m = a.Shape[^2], k = a.Shape[^1], n = b.Shape[^1], batch = ShapeUtil.Numel(batchShape);
        var y = Empty(be, batchShape.Append(m).Append(n).ToArray());
        for (int i = 0; i < batch; i++)
            be.Gemm(false, false, m, n, k, 1f, a.Buffer.Memory!, a.Offset + (aShared ? 0 : (long)i * m * k),
                b.Buffer.Memory!, b.Offset + (bShared ? 0 : (long)i * k * n), 0f, y.Buffer.Memory!, (long)i * m * n);
        return y;
    }

    /// <summary>Constant padding of the last dimensions: a tensor of the value with x copied inside.</summary>
    public static Tensor PadConstant(IDeviceBackend be, Tensor x, int[] pads, float value)
    {
        var shape = (int[])x.Shape.Clone();
        int dims = pads.Length / 2;
        var start = new int[x.Rank];
        for (int i = 0; i < dims; i++)
        {
            int d = x.Rank - 1 - i;
            shape[d] += pads[2 * i] + pads[2 * i + 1];
            start[d] = pads[2 * i];
        }
        var y = Full(be, value, shape);
        long offset = 0;
        for (int d = 0; d < x.Rank; d++) offset += (long)start[d] * y.Strides[d];
        be.Copy(View(x, x.Strides), new DeviceView(y.Buffer.Memory!, offset, x.Shape, y.Strides));
        return y;
    }

    /// <summary>y = x W^T + bias for W [out, in].</summary>
    public static Tensor Linear(IDeviceBackend be, Tensor x, Tensor weight, Tensor? bias)
    {
        x = Contiguous(be, x); weight = Contiguous(be, weight);
        int inF = weight.Shape[1], outF = weight.Shape[0], rows = x.Numel / Math.Max(1, inF);
        var shape = (int[])x.Shape.Clone();
        shape[^1] = outF;
        var y = Empty(be, shape);
        be.Gemm(false, true, rows, outF, inF, 1f, x.Buffer.Memory!, x.Offset, weight.Buffer.Memory!, weight.Offset, 0f,
            y.Buffer.Memory!, 0);
        return bias == null ? y : Binary(be, "Linear", DeviceBinaryOp.Add, y.Reshape(rows, outF), bias).Reshape(shape);
    }

    /// <summary>Softmax over the last dimension.</summary>
    public static Tensor Softmax(IDeviceBackend be, Tensor x, int dim)
    {
        // Another dimension is moved last and back (the kernel normalises rows).
        if (dim != x.Rank - 1)
            return Contiguous(be, Softmax(be, x.Detach().Transpose(dim, x.Rank - 1), x.Rank - 1)
                .Transpose(dim, x.Rank - 1));
        x = Contiguous(be, x);
        int cols = x.Shape[^1];
        var y = Empty(be, (int[])x.Shape.Clone());
        be.Softmax(x.Buffer.Memory!, x.Offset, y.Buffer.Memory!, x.Numel / Math.Max(1, cols), cols);
        return y;
    }

    public static Tensor GroupNorm(IDeviceBackend be, Tensor x, int groups, Tensor? gamma, Tensor? beta, float eps,
        bool silu)
    {
        x = Contiguous(be, x);
        int n = x.Shape[0], c = x.Shape[1], spatial = x.Numel / Math.Max(1, n * c);
        var (g, b) = Affine(be, gamma, beta, c);
        var y = Empty(be, (int[])x.Shape.Clone());
        be.GroupNorm(x.Buffer.Memory!, x.Offset, g, b, y.Buffer.Memory!, n, c, spatial, groups, eps, silu);
        return y;
    }

    /// <summary>softmax(q k^T scale + bias, masked) v; each query's log-sum-exp goes to <paramref name="lse"/>
    /// [B, H, Lq] when given (the backward pass's).</summary>
    public static Tensor Attention(IDeviceBackend be, Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? bias,
        float scale, Tensor? lse = null)
    {
        int b = q.Shape[0], h = q.Shape[1], lq = q.Shape[2], d = q.Shape[3], lk = k.Shape[2], dv = v.Shape[3];
        var extraBias = AttentionExtra(bias, "bias", b, h, lq, lk);
        var extraMask = AttentionExtra(mask, "mask", b, h, lq, lk);
        q = Contiguous(be, q); k = Contiguous(be, k); v = Contiguous(be, v);
        var y = Empty(be, b, h, lq, dv);
        be.Attention(OffsetFree(be, q), OffsetFree(be, k), OffsetFree(be, v), extraBias, extraMask, y.Buffer.Memory!,
            b, h, lq, lk, d, dv, scale, lse?.Buffer.Memory);
        return y;
    }

    /// <summary>An attention bias or mask as a view broadcast to [b, h, lq, lk] (null when absent).</summary>
    private static DeviceView? AttentionExtra(Tensor? t, string what, int b, int h, int lq, int lk)
    {
        if (t == null) return null;
        var shape = new[] { b, h, lq, lk };
        if (t.Rank > 4 || !ShapeUtil.Broadcast("Attention", t.Shape, shape).SequenceEqual(shape))
            throw new ArgumentException($"Attention: {what} {ShapeUtil.Str(t.Shape)} does not broadcast to " +
                $"{ShapeUtil.Str(shape)}.");
        return View(t, Elementwise.BroadcastStrides(t, shape));
    }

    /// <summary>A norm's per-channel scale and shift on the device (ones and zeros without an affine: the kernels
    /// always take one).</summary>
    private static (DeviceMemory Gamma, DeviceMemory Beta) Affine(IDeviceBackend be, Tensor? gamma, Tensor? beta,
        int channels) =>
        (OffsetFree(be, gamma ?? Full(be, 1f, channels)), OffsetFree(be, beta ?? Full(be, 0f, channels)));

    /// <summary>The memory of a tensor as a contiguous run from element 0 (a copy when it is not one).</summary>
    private static DeviceMemory OffsetFree(IDeviceBackend be, Tensor t) => Packed(be, t).Buffer.Memory!;

    /// <summary>A contiguous device tensor whose memory starts at element 0 (a copy otherwise).</summary>
    private static Tensor Packed(IDeviceBackend be, Tensor t) =>
        t.IsContiguous && t.Offset == 0 ? t : Copy(be, t);

    /// <summary>The inputs side by side along <paramref name="dim"/> (shapes checked by the caller).</summary>
    public static Tensor Concat(IDeviceBackend be, IReadOnlyList<Tensor> xs, int dim, int[] shape)
    {
        var y = Empty(be, shape);
        int start = 0;
        foreach (var t in xs)
        {
            var dst = new DeviceView(y.Buffer.Memory!, (long)start * y.Strides[dim], t.Shape, y.Strides);
            be.Copy(View(t, t.Strides), dst);
            start += t.Shape[dim];
        }
        return y;
    }

    /// <summary>3-D convolution of x [N, C, D, H, W] by w [Co, C, kd, kh, kw] with zero padding: per sample,
    /// im2col then one GEMM, then the bias.</summary>
    public static Tensor Conv(IDeviceBackend be, Tensor x, Tensor w, Tensor? bias, int[] stride, int[] padding)
    {
        x = Contiguous(be, x); w = Contiguous(be, w);
        var g = new DeviceConv(x.Shape[1], x.Shape[2], x.Shape[3], x.Shape[4], w.Shape[2], w.Shape[3], w.Shape[4],
            stride[0], stride[1], stride[2], padding[0], padding[1], padding[2]);
        int n = x.Shape[0], co = w.Shape[0], k = g.C * g.KD * g.KH * g.KW, p = g.OD * g.OH * g.OW;
        var y = Empty(be, n, co, g.OD, g.OH, g.OW);
        using (var cols = be.Allocate((long)k * p))
            for (int i = 0; i < n; i++)
            {
                be.Im2Col(x.Buffer.Memory!, x.Offset + (long)i * g.C * g.D * g.H * g.W, g, cols);
                be.Gemm(false, false, co, p, k, 1f, w.Buffer.Memory!, w.Offset, cols, 0, 0f, y.Buffer.Memory!,
                    (long)i * co * p);
            }
        return bias == null ? y : AddChannelBias(be, y, bias);
    }

    /// <summary>3-D transposed convolution of x [N, Ci, D, H, W] by w [Ci, Co, kd, kh, kw]: per sample, one GEMM
    /// (W^T x) then col2im, then the bias.</summary>
    public static Tensor ConvTranspose(IDeviceBackend be, Tensor x, Tensor w, Tensor? bias, int[] stride,
        int[] padding, int[] outSize)
    {
        x = Contiguous(be, x); w = Contiguous(be, w);
        int n = x.Shape[0], ci = w.Shape[0], co = w.Shape[1];
        // The ordinary convolution from the output back to the input.
        var g = new DeviceConv(co, outSize[0], outSize[1], outSize[2], w.Shape[2], w.Shape[3], w.Shape[4], stride[0],
            stride[1], stride[2], padding[0], padding[1], padding[2]);
        int k = co * g.KD * g.KH * g.KW, p = x.Shape[2] * x.Shape[3] * x.Shape[4];
        var y = Empty(be, n, co, outSize[0], outSize[1], outSize[2]);
        using (var cols = be.Allocate((long)k * p))
            for (int i = 0; i < n; i++)
            {
                be.Gemm(true, false, k, p, ci, 1f, w.Buffer.Memory!, w.Offset, x.Buffer.Memory!,
                    x.Offset + (long)i * ci * p, 0f, cols, 0);
                be.Col2Im(cols, g, y.Buffer.Memory!, (long)i * co * g.D * g.H * g.W);
            }
        return bias == null ? y : AddChannelBias(be, y, bias);
    }

    private static Tensor AddChannelBias(IDeviceBackend be, Tensor y, Tensor bias)
    {
        int n = y.Shape[0], c = y.Shape[1];
        return Binary(be, "Conv", DeviceBinaryOp.Add, y.Reshape(n, c, y.Numel / Math.Max(1, n * c)),
            bias.Reshape(1, c, 1)).Reshape(y.Shape);
    }

    /// <summary>Average pooling of x [N, C, D, H, W] over blocks of <paramref name="k"/>, stride equal to it.</summary>
    public static Tensor AvgPool(IDeviceBackend be, Tensor x, int[] k)
    {
        x = Contiguous(be, x);
        var g = new DeviceConv(x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3], x.Shape[4], k[0], k[1], k[2], k[0],
            k[1], k[2], 0, 0, 0);
        var y = Empty(be, x.Shape[0], x.Shape[1], g.OD, g.OH, g.OW);
        be.AvgPool(x.Buffer.Memory!, x.Offset, g, y.Buffer.Memory!);
        return y;
    }

    /// <summary>Rows of a [V, D] table by id, shaped <paramref name="shape"/> (the ids' shape and D).</summary>
    public static Tensor Embedding(IDeviceBackend be, Tensor weight, int[] ids, int[] shape)
    {
        weight = Contiguous(be, weight);
        var y = Empty(be, shape);
        be.Embedding(weight.Buffer.Memory!, weight.Offset, ids, weight.Shape[1], y.Buffer.Memory!);
        return y;
    }

    /// <summary>Layer norm over the last dimension (ones and zeros when there is no affine).</summary>
    public static Tensor LayerNorm(IDeviceBackend be, Tensor x, Tensor? gamma, Tensor? beta, float eps)
    {
        x = Contiguous(be, x);
        int d = x.Shape[^1];
        var (g, b) = Affine(be, gamma, beta, d);
        var y = Empty(be, (int[])x.Shape.Clone());
        be.LayerNorm(x.Buffer.Memory!, x.Offset, g, b, y.Buffer.Memory!, x.Numel / Math.Max(1, d), d, eps);
        return y;
    }

    /// <summary>Nearest-neighbour upsampling of x [N, C, D, H, W] by integer factors: one copy from a view that
    /// repeats each element (stride 0 along the factors).</summary>
    public static Tensor UpsampleNearest(IDeviceBackend be, Tensor x, int[] f)
    {
        int n = x.Shape[0], c = x.Shape[1], d = x.Shape[2], h = x.Shape[3], w = x.Shape[4];
        var y = Empty(be, n, c, d * f[0], h * f[1], w * f[2]);
        int[] shape = { n, c, d, f[0], h, f[1], w, f[2] };
        var s = x.Strides;
        var src = new DeviceView(x.Buffer.Memory!, x.Offset, shape, new[] { s[0], s[1], s[2], 0, s[3], 0, s[4], 0 });
        be.Copy(src, new DeviceView(y.Buffer.Memory!, 0, shape, ShapeUtil.ContiguousStrides(shape)));
        return y;
    }

    private static void RequireRank4(string op, int[] merged, int[] shape)
    {
        if (merged.Length > 4)
            throw new LongshotException($"{op}: device kernels take at most 4 dimensions after merging, got " +
                $"{ShapeUtil.Str(shape)}.");
    }
}
