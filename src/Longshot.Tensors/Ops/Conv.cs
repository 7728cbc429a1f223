using Longshot.Tensors.Autograd;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors;

public static partial class Ops
{
    /// <summary>1-D convolution. x: [N, C, L], weight: [Co, C, k].</summary>
    public static Tensor Conv1d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0,
        PadMode padMode = PadMode.Constant)
    {
        Expect("Conv1d", x, 3, "[N, C, L]"); Expect("Conv1d", weight, 3, "[Co, C, k]");
        var y = ConvNd("Conv1d", x.Unsqueeze(2).Unsqueeze(2), weight.Unsqueeze(2).Unsqueeze(2), bias,
            new[] { 1, 1, stride }, new[] { 0, 0, padding }, padMode);
        return y.Squeeze(2).Squeeze(2);
    }

    /// <summary>2-D convolution. x: [N, C, H, W], weight: [Co, C, kh, kw].</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0,
        PadMode padMode = PadMode.Constant)
        => Conv2d(x, weight, bias, (stride, stride), (padding, padding), padMode);

    /// <summary>2-D convolution with separate (height, width) stride and padding.</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding,
        PadMode padMode = PadMode.Constant)
    {
        Expect("Conv2d", x, 4, "[N, C, H, W]"); Expect("Conv2d", weight, 4, "[Co, C, kh, kw]");
        var y = ConvNd("Conv2d", x.Unsqueeze(2), weight.Unsqueeze(2), bias,
            new[] { 1, stride.H, stride.W }, new[] { 0, padding.H, padding.W }, padMode);
        return y.Squeeze(2);
    }

    /// <summary>3-D convolution. x: [N, C, D, H, W], weight: [Co, C, kd, kh, kw]; stride and padding per (D, H,
    /// W).</summary>
    public static Tensor Conv3d(Tensor x, Tensor weight, Tensor? bias, int[] stride, int[] padding,
        PadMode padMode = PadMode.Constant)
    {
        Expect("Conv3d", x, 5, "[N, C, D, H, W]"); Expect("Conv3d", weight, 5, "[Co, C, kd, kh, kw]");
        if (stride.Length != 3 || padding.Length != 3)
            throw new ArgumentException("Conv3d: stride and padding need three values (D, H, W).");
        return ConvNd("Conv3d", x, weight, bias, stride, padding, padMode);
    }

    /// <summary>3-D convolution with the same stride and padding on every axis.</summary>
    public static Tensor Conv3d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0,
        PadMode padMode = PadMode.Constant)
        => Conv3d(x, weight, bias, new[] { stride, stride, stride }, new[] { padding, padding, padding }, padMode);

    /// <summary>2-D transposed convolution. x: [N, Ci, H, W], weight: [Ci, Co, kh, kw] (PyTorch layout).</summary>
    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0)
    {
        Expect("ConvTranspose2d", x, 4, "[N, Ci, H, W]"); Expect("ConvTranspose2d", weight, 4, "[Ci, Co, kh, kw]");
        return ConvTransposeNd(x.Unsqueeze(2), weight.Unsqueeze(2), bias, new[] { 1, stride, stride },
            new[] { 0, padding, padding }).Squeeze(2);
    }

    /// <summary>3-D transposed convolution. x: [N, Ci, D, H, W], weight: [Ci, Co, kd, kh, kw].</summary>
    public static Tensor ConvTranspose3d(Tensor x, Tensor weight, Tensor? bias, int[] stride, int[] padding)
    {
        Expect("ConvTranspose3d", x, 5, "[N, Ci, D, H, W]"); Expect("ConvTranspose3d", weight, 5,
            "[Ci, Co, kd, kh, kw]");
        return ConvTransposeNd(x, weight, bias, stride, padding);
    }

    /// <summary>Nearest-neighbour upsampling of the trailing spatial dims by integer factors (1, 2 or 3
    /// factors).</summary>
    public static Tensor UpsampleNearest(Tensor x, params int[] factors)
    {
        var (x5, back) = ToSpatial5("UpsampleNearest", x, factors.Length);
        var f = Pad3(factors, 1);
        if (f.Any(v => v < 1))
            throw new ArgumentException($"UpsampleNearest: factors must be positive, got [{string.Join(", " +
            "", factors)}].");
        if (Devices.DeviceOps.Backend("UpsampleNearest", x5) is { } be)
            return back(Graph.Record(Devices.DeviceOps.UpsampleNearest(be, x5, f), new UpsampleNearestOp(f), x5));
        var y = Graph.Record(PoolKernel.Upsample(x5.Contiguous(), f), new UpsampleNearestOp(f), x5);
        return back(y);
    }

    /// <summary>Average pooling with kernel = stride over the trailing spatial dims (1, 2 or 3 sizes).</summary>
    public static Tensor AvgPool(Tensor x, params int[] kernel)
    {
        var (x5, back) = ToSpatial5("AvgPool", x, kernel.Length);
        var k = Pad3(kernel, 1);
        for (int i = 0; i < 3; i++)
            if (k[i] < 1 || x5.Shape[2 + i] % k[i] != 0)
                throw new ArgumentException($"AvgPool: size {x5.Shape[2 + i]} is not divisible by kernel {k[i]} " +
                    $"(input {ShapeUtil.Str(x.Shape)}).");
        if (Devices.DeviceOps.Backend("AvgPool", x5) is { } be)
            return back(Graph.Record(Devices.DeviceOps.AvgPool(be, x5, k), new AvgPoolOp(k), x5));
        var y = Graph.Record(PoolKernel.AvgPool(x5.Contiguous(), k), new AvgPoolOp(k), x5);
        return back(y);
    }

    // ---------- shared ----------

    private static void Expect(string op, Tensor t, int rank, string layout)
    {
        if (t.Rank != rank)
            throw new ArgumentException($"{op}: expected a tensor of rank {rank} {layout}, got " +
            $"{ShapeUtil.Str(t.Shape)}.");
    }

    private static int[] Pad3(int[] v, int fill)
    {
        var o = new[] { fill, fill, fill };
        for (int i = 0; i < v.Length; i++) o[3 - v.Length + i] = v[i];
        return o;
    }

    private static (Tensor, Func<Tensor, Tensor>) ToSpatial5(string op, Tensor x, int spatial)
    {
        if (spatial < 1 || spatial > 3 || x.Rank != spatial + 2)
            throw new ArgumentException($"{op}: {spatial} factor(s) need an input of rank {spatial + 2} [N, C, " +
                $"spatial...], got {ShapeUtil.Str(x.Shape)}.");
        var x5 = x;
        for (int i = spatial; i < 3; i++) x5 = x5.Unsqueeze(2);
        return (x5, y => { for (int i = spatial; i < 3; i++) y = y.Squeeze(2); return y; });
    }

    private static Tensor ConvNd(string op, Tensor x, Tensor w, Tensor? bias, int[] stride, int[] padding,
        PadMode padMode)
    {
        if (x.Shape[1] != w.Shape[1])
            throw new ArgumentException($"{op}: input {ShapeUtil.Str(x.Shape)} has {x.Shape[1]} channels but weight " +
                $"{ShapeUtil.Str(w.Shape)} expects {w.Shape[1]}.");
        if (bias != null && (bias.Rank != 1 || bias.Shape[0] != w.Shape[0]))
            throw new ArgumentException($"{op}: bias {ShapeUtil.Str(bias.Shape)} does not match {w.Shape[0]} output " +
                $"channels.");
        if (stride.Any(s => s < 1) || padding.Any(p => p < 0))
            throw new ArgumentException($"{op}: stride must be >= 1 and padding >= 0.");
        if (Devices.DeviceOps.Backend(op, x, w, bias) is { } be)
        {
            if (padMode != PadMode.Constant && padding.Any(p => p > 0))
                throw new LongshotException($"{op} on {be.Device}: only zero padding so far.");
            var yd = Devices.DeviceOps.Conv(be, x, w, bias, stride, padding);
            var dop = new ConvOp(Geometry(x, w, stride, padding));
            return bias != null ? Graph.Record(yd, dop, x, w, bias) : Graph.Record(yd, dop, x, w);
        }
        x = MixedPrecision.Input(x); w = MixedPrecision.Input(w);
        if (padMode != PadMode.Constant && padding.Any(p => p > 0))
        {
            x = Pad(x, new[] { padding[2], padding[2], padding[1], padding[1], padding[0], padding[0] }, padMode);
            padding = new[] { 0, 0, 0 };
        }
        var g = Geometry(x, w, stride, padding);
        if (g.OD < 1 || g.OH < 1 || g.OW < 1)
            throw new ArgumentException($"{op}: kernel {ShapeUtil.Str(w.Shape[2..])} is larger than the padded input " +
                $"{ShapeUtil.Str(x.Shape)}.");
        int n = x.Shape[0], co = w.Shape[0];
        var xc = x.Contiguous(); var wc = w.Contiguous();
        var y = Tensor.Empty(n, co, g.OD, g.OH, g.OW);
        var bc = bias?.Contiguous();
        using (var wl = IO.WidenedWeight.Of(wc))
            ConvKernel.Forward(xc.Storage, xc.Offset, n, g, wl.Array, wl.Offset, co, bc?.Storage, bc?.Offset ?? 0,
                y.Storage);
        var convOp = new ConvOp(g);
        return bias != null ? Graph.Record(y, convOp, x, w, bias) : Graph.Record(y, convOp, x, w);
    }

    /// <summary>The geometry of a convolution of <paramref name="x"/> [N, C, D, H, W] with <paramref
    /// name="w"/>.</summary>
    private static ConvGeometry Geometry(Tensor x, Tensor w, int[] stride, int[] padding) =>
        new(x.Shape[1], x.Shape[2], x.Shape[3], x.Shape[4], w.Shape[2], w.Shape[3], w.Shape[4], stride[0], stride[1],
            stride[2], padding[0], padding[1], padding[2]);

    private static Tensor ConvTransposeNd(Tensor x, Tensor w, Tensor? bias, int[] stride, int[] padding)
    {
        if (x.Shape[1] != w.Shape[0])
            throw new ArgumentException($"ConvTranspose: input {ShapeUtil.Str(x.Shape)} has {x.Shape[1]} channels " +
                $"but weight {ShapeUtil.Str(w.Shape)} expects {w.Shape[0]}.");
        int n = x.Shape[0], ci = w.Shape[0], co = w.Shape[1];
        if (bias != null && (bias.Rank != 1 || bias.Shape[0] != co))
            throw new ArgumentException($"ConvTranspose: bias {ShapeUtil.Str(bias.Shape)} does not match {co} output " +
                $"channels.");
        int od = (x.Shape[2] - 1) * stride[0] - 2 * padding[0] + w.Shape[2];
        int oh = (x.Shape[3] - 1) * stride[1] - 2 * padding[1] + w.Shape[3];
        int ow = (x.Shape[4] - 1) * stride[2] - 2 * padding[2] + w.Shape[4];
        if (od < 1 || oh < 1 || ow < 1)
            throw new ArgumentException($"ConvTranspose: padding too large for input {ShapeUtil.Str(x.Shape)}.");
        // g: the ordinary convolution from the output back to the input.
        var g = new ConvGeometry(co, od, oh, ow, w.Shape[2], w.Shape[3], w.Shape[4], stride[0], stride[1], stride[2],
            padding[0], padding[1], padding[2]);
        var transposeOp = new ConvTransposeOp(g);
        if (Devices.DeviceOps.Backend("ConvTranspose", x, w, bias) is { } be)
        {
            var yd = Devices.DeviceOps.ConvTranspose(be, x, w, bias, stride, padding, new[] { od, oh, ow });
            return bias != null ? Graph.Record(yd, transposeOp, x, w, bias) : Graph.Record(yd, transposeOp, x, w);
        }
        var xc = x.Contiguous(); var wc = w.Contiguous();
        var y = Tensor.Empty(n, co, od, oh, ow);
        ConvKernel.TransposedForward(xc.Storage, xc.Offset, n, ci, g, wc.Storage, wc.Offset, y.Storage);
        if (bias != null) y = Elementwise.Binary("ConvTranspose", BinaryOp.Add, y, bias.Reshape(1, co, 1, 1, 1));
        return bias != null ? Graph.Record(y, transposeOp, x, w, bias) : Graph.Record(y, transposeOp, x, w);
    }
}
