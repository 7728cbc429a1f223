using Longshot.Tensors.Autograd;
using Longshot.Tensors.Devices;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors;

public static partial class Ops
{
    /// <summary>Matrix product over the last two dimensions, batch dimensions broadcast (rank 2 or more).</summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        if (DeviceOps.Backend("MatMul", a, b) is { } be)
            return Graph.Record(DeviceOps.MatMul(be, a, b), OpKind.MatMul, a, b);
        a = MixedPrecision.Input(a); b = MixedPrecision.Input(b);
        var r = MatMulKernel(a, b);
        return Graph.Record(r, OpKind.MatMul, a, b);
    }

    /// <summary>y = x W^T + b, with W of shape [out, in] (PyTorch's nn.Linear layout).</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2 || x.Rank < 1 || x.Shape[^1] != weight.Shape[1])
            throw new ArgumentException($"Linear: input {ShapeUtil.Str(x.Shape)} does not match weight " +
                $"{ShapeUtil.Str(weight.Shape)} (expected [..., {(weight.Rank == 2 ? weight.Shape[1] : -1)}]).");
        if (bias != null && (bias.Rank != 1 || bias.Shape[0] != weight.Shape[0]))
            throw new ArgumentException($"Linear: bias {ShapeUtil.Str(bias.Shape)} does not match weight " +
                $"{ShapeUtil.Str(weight.Shape)}.");
        if (DeviceOps.Backend("Linear", x, weight, bias) is { } be)
        {
            var yd = DeviceOps.Linear(be, x, weight, bias);
            return bias != null ? Graph.Record(yd, OpKind.Linear, x, weight, bias)
                : Graph.Record(yd, OpKind.Linear, x, weight);
        }
        x = MixedPrecision.Input(x); weight = MixedPrecision.Input(weight);
        int inF = weight.Shape[1], outF = weight.Shape[0];
        var xc = x.Contiguous().Detach(); var wc = weight.Contiguous().Detach();
        int rows = x.Numel / Math.Max(1, inF);
        var outShape = (int[])x.Shape.Clone(); outShape[^1] = outF;
        var y = Tensor.Empty(outShape);
        if (bias != null)
        {
            var bc = bias.Contiguous();
            for (int i = 0; i < rows; i++) bc.Span.CopyTo(y.Storage.AsSpan(i * outF, outF));
        }
        using (var w = IO.WidenedWeight.Of(wc))
            Gemm.Sgemm(false, true, rows, outF, inF, 1f, xc.Storage, xc.Offset, inF, w.Array, w.Offset, inF,
                bias != null ? 1f : 0f, y.Storage, 0, outF);
        return bias != null ? Graph.Record(y, OpKind.Linear, x, weight, bias)
            : Graph.Record(y, OpKind.Linear, x, weight);
    }

    /// <summary>A matrix view usable by GEMM: base offset, transposed flag and leading dimension.</summary>
    private readonly record struct MatView(bool Trans, int Ld);

    /// <summary>Whether a strided matrix can be read by GEMM directly, as row-major or as the transpose of a row-major
    /// one.</summary>
    private static bool TryMatView(int rows, int cols, int rs, int cs, out MatView v)
    {
        int rs1 = rows == 1 ? cols : rs, cs1 = cols == 1 ? 1 : cs;
        if (cs1 == 1 && rs1 >= cols) { v = new MatView(false, Math.Max(1, rs1)); return true; }
        int rs2 = rows == 1 ? 1 : rs, cs2 = cols == 1 ? rows : cs;
        if (rs2 == 1 && cs2 >= rows) { v = new MatView(true, Math.Max(1, cs2)); return true; }
        v = default;
        return false;
    }

    internal static Tensor MatMulKernel(Tensor a, Tensor b)
    {
        if (a.Rank < 2 || b.Rank < 2)
            throw new ArgumentException($"MatMul: both inputs need rank >= 2, got {ShapeUtil.Str(a.Shape)} and " +
            $"{ShapeUtil.Str(b.Shape)}.");
        int m = a.Shape[^2], k = a.Shape[^1], n = b.Shape[^1];
        if (b.Shape[^2] != k)
            throw new ArgumentException($"MatMul: inner dimensions differ: {ShapeUtil.Str(a.Shape)} @ " +
            $"{ShapeUtil.Str(b.Shape)}.");
        var batchShape = ShapeUtil.Broadcast("MatMul", a.Shape[..^2], b.Shape[..^2]);
        int batch = ShapeUtil.Numel(batchShape);
        var outShape = batchShape.Append(m).Append(n).ToArray();
        var y = Tensor.Empty(outShape);
        if (y.Numel == 0) return y;

        // A shared right matrix: fold a's batch into rows for one large GEMM.
        if (b.Rank == 2 && a.IsContiguous)
        {
            var bb = b.Detach();
            if (!TryMatView(k, n, bb.Strides[0], bb.Strides[1],
                out var vb)) { bb = bb.Contiguous(); vb = new MatView(false, n); }
            Gemm.Sgemm(false, vb.Trans, batch * m, n, k, 1f, a.Storage, a.Offset, k, bb.Storage, bb.Offset, vb.Ld, 0f,
                y.Storage, 0, n);
            return y;
        }

        var ae = Prepare(a, batchShape, m, k, out var va, out var aOffs);
        var be = Prepare(b, batchShape, k, n, out var vbm, out var bOffs);
        bool perMatrixParallel = batch >= Threads.Count && (long)m * n * k < 1L << 24;
        if (perMatrixParallel)
        {
            Threads.For(batch, 1, (s, e) =>
            {
                for (int i = s; i < e; i++)
                    Gemm.Sgemm(va.Trans, vbm.Trans, m, n, k, 1f, ae.Storage, aOffs[i], va.Ld, be.Storage, bOffs[i],
                        vbm.Ld, 0f, y.Storage, i * m * n, n, parallel: false);
            });
        }
        else
        {
            for (int i = 0; i < batch; i++)
                Gemm.Sgemm(va.Trans, vbm.Trans, m, n, k, 1f, ae.Storage, aOffs[i], va.Ld, be.Storage, bOffs[i], vbm.Ld,
                    0f, y.Storage, i * m * n, n);
        }
        return y;
    }

    /// <summary>Expands x's batch dims to batchShape and returns per-matrix offsets plus a GEMM layout.</summary>
    private static Tensor Prepare(Tensor x, int[] batchShape, int rows, int cols, out MatView v, out int[] offs)
    {
        var t = x.Detach();
        if (!TryMatView(rows, cols, t.Strides[^2], t.Strides[^1], out v)) { t = t.Contiguous(); v = new MatView(false,
            cols); }
        int br = batchShape.Length, lead = br - (t.Rank - 2);
        var bst = new int[br];
        for (int d = 0; d < t.Rank - 2; d++) bst[d + lead] = t.Shape[d] == 1 ? 0 : t.Strides[d];
        int batch = ShapeUtil.Numel(batchShape);
        offs = new int[batch];
        for (int i = 0; i < batch; i++)
        {
            int rem = i, o = t.Offset;
            for (int d = br - 1; d >= 0; d--) { int idx = rem % batchShape[d]; rem /= batchShape[d]; o += idx
                * bst[d]; }
            offs[i] = o;
        }
        return t;
    }
}

public sealed partial class Tensor
{
    public Tensor MatMul(Tensor other) => Ops.MatMul(this, other);
}
