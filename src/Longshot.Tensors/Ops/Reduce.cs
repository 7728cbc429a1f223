using System.Numerics.Tensors;
using Longshot.Tensors.Autograd;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors;

public static partial class Ops
{

    /// <summary>Sum over the given dimensions (all when none are given).</summary>
    public static Tensor Sum(Tensor x, int[]? dims = null, bool keepDim = false)
    {
        var ds = NormDims(x, dims, "Sum");
        var r = Devices.DeviceOps.Backend("Sum", x) is { } be ? Devices.DeviceOps.Sum(be, x, ds, keepDim)
            : SumKernel(x, ds, keepDim);
        return Graph.Record(r, new SumOp(ds, keepDim, x.Shape), x);
    }

    /// <summary>Sum over one dimension.</summary>
    public static Tensor Sum(Tensor x, int dim, bool keepDim = false) => Sum(x, new[] { dim }, keepDim);

    /// <summary>Mean over the given dimensions (all when none are given).</summary>
    public static Tensor Mean(Tensor x, int[]? dims = null, bool keepDim = false)
    {
        var ds = NormDims(x, dims, "Mean");
        int count = 1; foreach (var d in ds) count *= x.Shape[d];
        return MulScalar(Sum(x, ds, keepDim), 1f / Math.Max(1, count));
    }

    /// <summary>Mean over one dimension.</summary>
    public static Tensor Mean(Tensor x, int dim, bool keepDim = false) => Mean(x, new[] { dim }, keepDim);

    /// <summary>Maximum along one dimension; the gradient flows to the first maximal element.</summary>
    public static Tensor Max(Tensor x, int dim, bool keepDim = false)
    {
        int d = ShapeUtil.NormDim(dim, x.Rank, "Max");
        if (x.Shape[d] == 0) throw new ArgumentException($"Max: dimension {d} of {ShapeUtil.Str(x.Shape)} is empty.");
        var moved = MoveToLast(x, d);
        int n = x.Shape[d], rows = moved.Numel / n;
        var outShape = ReducedShape(x.Shape, new[] { d }, keepDim);
        var r = Tensor.Empty(outShape);
        var arg = new int[rows];
        var src = moved.Storage; int off = moved.Offset;
        for (int i = 0; i < rows; i++)
        {
            int k = TensorPrimitives.IndexOfMax(src.AsSpan(off + i * n, n));
            arg[i] = k; r.Storage[i] = src[off + i * n + k];
        }
        return Graph.Record(r, new MaxOp(d, arg), x);
    }

    /// <summary>Softmax along a dimension.</summary>
    public static Tensor Softmax(Tensor x, int dim = -1)
    {
        int d = ShapeUtil.NormDim(dim, x.Rank, "Softmax");
        var r = Devices.DeviceOps.Backend("Softmax", x) is { } be ? Devices.DeviceOps.Softmax(be, x, d)
            : RowWise(x, d, FastMath.Softmax);
        return Graph.Record(r, new SoftmaxOp(d), x);
    }

    /// <summary>Log-softmax along a dimension (numerically stable).</summary>
    public static Tensor LogSoftmax(Tensor x, int dim = -1)
    {
        int d = ShapeUtil.NormDim(dim, x.Rank, "LogSoftmax");
        var r = RowWise(x, d, (s, o) =>
        {
            float m = TensorPrimitives.Max(s);
            float lse = m + MathF.Log(FastMath.ExpShiftSum(s, m, o));
            TensorPrimitives.Subtract(s, lse, o);
        });
        return Graph.Record(r, new LogSoftmaxOp(d), x);
    }

    /// <summary>Reduces a broadcast gradient back to <paramref name="shape"/> by summing expanded dimensions.</summary>
    public static Tensor SumTo(Tensor g, int[] shape)
    {
        if (g.Shape.AsSpan().SequenceEqual(shape)) return g;
        int lead = g.Rank - shape.Length;
        if (lead < 0)
            throw new ArgumentException($"SumTo: cannot reduce {ShapeUtil.Str(g.Shape)} to the larger rank " +
            $"{ShapeUtil.Str(shape)}.");
        var dims = new List<int>();
        for (int i = 0; i < g.Rank; i++)
        {
            if (i < lead) dims.Add(i);
            else if (shape[i - lead] == 1 && g.Shape[i] != 1) dims.Add(i);
            else if (shape[i - lead] != g.Shape[i])
                throw new ArgumentException($"SumTo: {ShapeUtil.Str(g.Shape)} is not a broadcast of " +
                    $"{ShapeUtil.Str(shape)}.");
        }
        var s = Sum(g, dims.ToArray(), keepDim: true);
        return Reshape(s, shape);
    }

    // ---------- helpers ----------

    private static int[] NormDims(Tensor x, int[]? dims, string op)
    {
        if (dims == null || dims.Length == 0) return Enumerable.Range(0, x.Rank).ToArray();
        var ds = dims.Select(d => ShapeUtil.NormDim(d, x.Rank, op)).Distinct().OrderBy(d => d).ToArray();
        return ds;
    }

    internal static int[] ReducedShape(int[] shape, int[] dims, bool keepDim)
    {
        var o = new List<int>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (dims.Contains(i)) { if (keepDim) o.Add(1); }
            else o.Add(shape[i]);
        }
        return o.ToArray();
    }

    private static Tensor SumKernel(Tensor x, int[] dims, bool keepDim)
    {
        var outShape = ReducedShape(x.Shape, dims, keepDim);
        var r = Tensor.Zeros(outShape);
        if (x.Numel == 0) return r;
        // Nothing to reduce (a rank-0 tensor summed over all of its no dimensions): the sum is the value itself.
        if (dims.Length == 0) { r.CopyFrom(x); return r; }
        int rank = x.Rank;
        bool suffix = dims.Length > 0 && dims[^1] == rank - 1 && dims[0] == rank - dims.Length;
        bool prefix = dims.Length > 0 && dims[0] == 0 && dims[^1] == dims.Length - 1;
        var c = x.Contiguous().Detach();
        int red = 1; foreach (var d in dims) red *= x.Shape[d];
        if (suffix)
        {
            int rows = x.Numel / red;
            Threads.For(rows, 64, (a, b) =>
            {
                for (int i = a; i < b; i++) r.Storage[i] = TensorPrimitives.Sum(c.Storage.AsSpan(c.Offset + i * red,
                    red));
            });
            return r;
        }
        if (prefix)
        {
            int inner = x.Numel / red;
            // Columns split across threads; rows summed pairwise, so the rounding error grows with log(rows).
            Threads.For(inner, 4096,
                (a, b) => SumRowsPairwise(c.Storage, c.Offset + a, inner, red, r.Storage.AsSpan(a, b - a)));
            return r;
        }
        var keep = Enumerable.Range(0, rank).Where(i => !dims.Contains(i));
        var moved = Permute(c, keep.Concat(dims).ToArray()).Contiguous().Detach();
        var flat = SumKernel(moved, Enumerable.Range(rank - dims.Length, dims.Length).ToArray(), false);
        Array.Copy(flat.Storage, r.Storage, r.Numel);
        return r;
    }

    /// <summary>
    /// acc = the sum of <paramref name="rows"/> rows of acc.Length values starting at <paramref name="offset"/>,
    /// <paramref name="stride"/> apart: up to 64 rows in order, more by halves (pairwise), so a sum over 200,000 rows
    /// keeps float32's precision instead of losing it row after row.
    /// </summary>
    private static void SumRowsPairwise(float[] src, int offset, int stride, int rows, Span<float> acc)
    {
        const int Block = 64;
        if (rows <= Block)
        {
            acc.Clear();
            for (int i = 0; i < rows; i++) TensorPrimitives.Add(acc, src.AsSpan(offset + i * stride, acc.Length), acc);
            return;
        }
        int half = rows / 2;
        SumRowsPairwise(src, offset, stride, half, acc);
        var rest = System.Buffers.ArrayPool<float>.Shared.Rent(acc.Length);
        try
        {
            var second = rest.AsSpan(0, acc.Length);
            SumRowsPairwise(src, offset + half * stride, stride, rows - half, second);
            TensorPrimitives.Add(acc, second, acc);
        }
        finally { System.Buffers.ArrayPool<float>.Shared.Return(rest); }
    }

    /// <summary>A contiguous copy (or view) of x with dimension d moved last.</summary>
    internal static Tensor MoveToLast(Tensor x, int d)
    {
        var c = x.Detach();
        if (d != x.Rank - 1)
        {
            var p = Enumerable.Range(0, x.Rank).Where(i => i != d).Append(d).ToArray();
            c = Permute(c, p);
        }
        return c.Contiguous();
    }

    /// <summary>Moves the last dimension of a contiguous tensor back to position d.</summary>
    internal static Tensor MoveFromLast(Tensor y, int d, int rank)
    {
        if (d == rank - 1) return y;
        var p = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) p[i] = i == d ? rank - 1 : j++;
        return Permute(y, p).Contiguous();
    }

    internal static Tensor RowWise(Tensor x, int d, Elementwise.SpanAction f)
    {
        var moved = MoveToLast(x, d);
        int n = x.Shape[d];
        var y = Tensor.Empty(moved.Shape);
        if (n > 0)
        {
            int rows = moved.Numel / n;
            Threads.For(rows, Math.Max(1, 8192 / n), (a, b) =>
            {
                for (int i = a; i < b; i++) f(moved.Storage.AsSpan(moved.Offset + i * n, n),
                    y.Storage.AsSpan(i * n, n));
            });
        }
        return MoveFromLast(y, d, x.Rank);
    }
}

public sealed partial class Tensor
{
    public Tensor Sum(int[]? dims = null, bool keepDim = false) => Ops.Sum(this, dims, keepDim);
    public Tensor Mean(int[]? dims = null, bool keepDim = false) => Ops.Mean(this, dims, keepDim);
}
