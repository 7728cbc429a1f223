using Longshot.Tensors.Autograd;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors;

/// <summary>Padding modes for <see cref="Ops.Pad"/>.</summary>
public enum PadMode
{
    /// <summary>Fill with a constant (zero by default).</summary>
    Constant,
    /// <summary>Mirror without repeating the edge (PyTorch's "reflect").</summary>
    Reflect,
    /// <summary>Repeat the edge value.</summary>
    Replicate,
}

public static partial class Ops
{
    /// <summary>Same elements, new shape (one dimension may be -1). A view when the input is contiguous.</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        var s = ShapeUtil.InferShape("Reshape", x.Numel, shape);
        var src = x.IsContiguous ? x : x.Detach().Contiguous();
        var r = new Tensor(src.Buffer, s, ShapeUtil.ContiguousStrides(s), src.Offset);
        return Graph.Record(r, OpKind.Reshape, x);
    }

    /// <summary>Reorders dimensions (a view).</summary>
    public static Tensor Permute(Tensor x, params int[] dims)
    {
        if (dims.Length != x.Rank)
            throw new ArgumentException($"Permute: {dims.Length} dimensions given for a tensor of shape " +
            $"{ShapeUtil.Str(x.Shape)}.");
        var seen = new bool[x.Rank];
        var shape = new int[x.Rank]; var strides = new int[x.Rank];
        for (int i = 0; i < dims.Length; i++)
        {
            int d = ShapeUtil.NormDim(dims[i], x.Rank, "Permute");
            if (seen[d])
                throw new ArgumentException($"Permute: dimension {d} repeated in [{string.Join(", ", dims)}].");
            seen[d] = true;
            shape[i] = x.Shape[d]; strides[i] = x.Strides[d];
        }
        var r = new Tensor(x.Buffer, shape, strides, x.Offset);
        var norm = dims.Select(d => d < 0 ? d + x.Rank : d).ToArray();
        return Graph.Record(r, new PermuteOp(norm), x);
    }

    /// <summary>Swaps two dimensions (a view).</summary>
    public static Tensor Transpose(Tensor x, int d0, int d1)
    {
        d0 = ShapeUtil.NormDim(d0, x.Rank, "Transpose"); d1 = ShapeUtil.NormDim(d1, x.Rank, "Transpose");
        var p = Enumerable.Range(0, x.Rank).ToArray();
        (p[d0], p[d1]) = (p[d1], p[d0]);
        return Permute(x, p);
    }

    /// <summary>Elements [start, start+length) along <paramref name="dim"/> (a view).</summary>
    public static Tensor Narrow(Tensor x, int dim, int start, int length)
    {
        int d = ShapeUtil.NormDim(dim, x.Rank, "Narrow");
        if (start < 0 || length < 0 || start + length > x.Shape[d])
            throw new ArgumentException($"Narrow: range [{start}, {start + length}) is outside dimension {d} of " +
                $"shape {ShapeUtil.Str(x.Shape)}.");
        var shape = (int[])x.Shape.Clone(); shape[d] = length;
        var r = new Tensor(x.Buffer, shape, (int[])x.Strides.Clone(), x.Offset + start * x.Strides[d]);
        return Graph.Record(r, new NarrowOp(d, start), x);
    }

    /// <summary>Splits along <paramref name="dim"/> into pieces of the given sizes (views).</summary>
    public static Tensor[] Split(Tensor x, int dim, params int[] sizes)
    {
        int d = ShapeUtil.NormDim(dim, x.Rank, "Split");
        if (sizes.Sum() != x.Shape[d])
            throw new ArgumentException($"Split: sizes [{string.Join(", ", sizes)}] do not add up to {x.Shape[d]} " +
            $"(dimension {d} of {ShapeUtil.Str(x.Shape)}).");
        var parts = new Tensor[sizes.Length];
        int start = 0;
        for (int i = 0; i < sizes.Length; i++) { parts[i] = Narrow(x, d, start, sizes[i]); start += sizes[i]; }
        return parts;
    }

    /// <summary>Splits along <paramref name="dim"/> into <paramref name="chunks"/> equal pieces.</summary>
    public static Tensor[] Chunk(Tensor x, int chunks, int dim)
    {
        int d = ShapeUtil.NormDim(dim, x.Rank, "Chunk");
        if (x.Shape[d] % chunks != 0)
            throw new ArgumentException($"Chunk: dimension {d} of {ShapeUtil.Str(x.Shape)} does not split into " +
            $"{chunks} equal parts.");
        return Split(x, d, Enumerable.Repeat(x.Shape[d] / chunks, chunks).ToArray());
    }

    /// <summary>Joins tensors along an existing dimension.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> xs, int dim)
    {
        if (xs.Count == 0) throw new ArgumentException("Concat: no tensors given.");
        int d = ShapeUtil.NormDim(dim, xs[0].Rank, "Concat");
        var shape = (int[])xs[0].Shape.Clone();
        shape[d] = 0;
        foreach (var t in xs)
        {
            if (t.Rank != shape.Length)
                throw new ArgumentException($"Concat: shapes {ShapeUtil.Str(xs[0].Shape)} and " +
                $"{ShapeUtil.Str(t.Shape)} differ in rank.");
            for (int i = 0; i < shape.Length; i++)
                if (i != d && t.Shape[i] != xs[0].Shape[i])
                    throw new ArgumentException($"Concat: shapes {ShapeUtil.Str(xs[0].Shape)} and " +
                        $"{ShapeUtil.Str(t.Shape)} differ outside dimension {d}.");
            shape[d] += t.Shape[d];
        }
        if (Devices.DeviceOps.Backend("Concat", xs) is { } be)
            return Graph.Record(Devices.DeviceOps.Concat(be, xs, d, shape), new ConcatOp(d), xs.ToArray());
        var r = Tensor.Empty(shape);
        int start = 0;
        foreach (var t in xs)
        {
            var dst = new Tensor(r.Buffer, (int[])t.Shape.Clone(), r.Strides, start * r.Strides[d]);
            StridedCopy.Scatter(t.ToArray(), dst);
            start += t.Shape[d];
        }
        return Graph.Record(r, new ConcatOp(d), xs.ToArray());
    }

    /// <summary>Stacks same-shape tensors along a new dimension.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> xs, int dim) =>
        Concat(xs.Select(t => Unsqueeze(t, dim < 0 ? dim + t.Rank + 1 : dim)).ToList(),
            dim < 0 ? dim + xs[0].Rank + 1 : dim);

    /// <summary>Inserts a dimension of size 1 (a view).</summary>
    public static Tensor Unsqueeze(Tensor x, int dim)
    {
        int d = dim < 0 ? dim + x.Rank + 1 : dim;
        if (d < 0 || d > x.Rank)
            throw new ArgumentException($"Unsqueeze: dimension {dim} is out of range for rank {x.Rank}.");
        var s = x.Shape.ToList(); s.Insert(d, 1);
        return Reshape(x, s.ToArray());
    }

    /// <summary>Removes a dimension of size 1.</summary>
    public static Tensor Squeeze(Tensor x, int dim)
    {
        int d = ShapeUtil.NormDim(dim, x.Rank, "Squeeze");
        if (x.Shape[d] != 1)
            throw new ArgumentException($"Squeeze: dimension {d} of {ShapeUtil.Str(x.Shape)} is not 1.");
        var s = x.Shape.ToList(); s.RemoveAt(d);
        return Reshape(x, s.ToArray());
    }

    /// <summary>Broadcasts to a larger shape without copying (stride 0 on expanded dimensions).</summary>
    public static Tensor Expand(Tensor x, params int[] shape)
    {
        if (shape.Length < x.Rank)
            throw new ArgumentException($"Expand: cannot expand {ShapeUtil.Str(x.Shape)} to fewer dimensions " +
            $"{ShapeUtil.Str(shape)}.");
        var full = ShapeUtil.Broadcast("Expand", x.Shape, shape);
        if (!full.AsSpan().SequenceEqual(shape))
            throw new ArgumentException($"Expand: {ShapeUtil.Str(x.Shape)} cannot be expanded to " +
            $"{ShapeUtil.Str(shape)}.");
        var r = new Tensor(x.Buffer, (int[])shape.Clone(), Elementwise.BroadcastStrides(x, shape), x.Offset);
        return Graph.Record(r, OpKind.Expand, x);
    }

    /// <summary>Tiles the tensor: output dimension i is shape[i] * reps[i] (like torch.Tensor.repeat).</summary>
    public static Tensor Repeat(Tensor x, params int[] reps)
    {
        if (reps.Length != x.Rank)
            throw new ArgumentException($"Repeat: {reps.Length} repeat counts for a tensor of shape " +
            $"{ShapeUtil.Str(x.Shape)}.");
        var inter = new List<int>(); var expanded = new List<int>(); var final = new int[x.Rank];
        for (int i = 0; i < x.Rank; i++)
        {
            inter.Add(1); inter.Add(x.Shape[i]);
            expanded.Add(reps[i]); expanded.Add(x.Shape[i]);
            final[i] = reps[i] * x.Shape[i];
        }
        return Reshape(Expand(Reshape(x, inter.ToArray()), expanded.ToArray()).Contiguous(), final);
    }

    /// <summary>Flattens dimensions [start, end] into one.</summary>
    public static Tensor Flatten(Tensor x, int start = 0, int end = -1)
    {
        int s = ShapeUtil.NormDim(start, x.Rank, "Flatten"), e = ShapeUtil.NormDim(end, x.Rank, "Flatten");
        var shape = new List<int>();
        for (int i = 0; i < s; i++) shape.Add(x.Shape[i]);
        int prod = 1; for (int i = s; i <= e; i++) prod *= x.Shape[i];
        shape.Add(prod);
        for (int i = e + 1; i < x.Rank; i++) shape.Add(x.Shape[i]);
        return Reshape(x, shape.ToArray());
    }

    /// <summary>
    /// Pads the last pads.Length/2 dimensions (at most 3), PyTorch order: (left, right, top, bottom, front, back).
    /// </summary>
    public static Tensor Pad(Tensor x, int[] pads, PadMode mode = PadMode.Constant, float value = 0f)
    {
        var ctx = PadKernel.Plan(x.Shape, pads, mode);
        if (Devices.DeviceOps.Backend("Pad", x) is { } be)
            return mode == PadMode.Constant && pads.All(p => p >= 0)
                ? Graph.Record(Devices.DeviceOps.PadConstant(be, x, pads, value), new PadOp(pads, null), x)
                : throw new LongshotException($"Pad on {be.Device}: only constant padding so far.");
        var r = PadKernel.Forward(x.Contiguous(), ctx, value);
        return Graph.Record(r, new PadOp(pads, ctx), x);
    }
}

public sealed partial class Tensor
{
    public Tensor Reshape(params int[] shape) => Ops.Reshape(this, shape);
    public Tensor Permute(params int[] dims) => Ops.Permute(this, dims);
    public Tensor Transpose(int d0, int d1) => Ops.Transpose(this, d0, d1);
    public Tensor Narrow(int dim, int start, int length) => Ops.Narrow(this, dim, start, length);
    public Tensor Unsqueeze(int dim) => Ops.Unsqueeze(this, dim);
    public Tensor Squeeze(int dim) => Ops.Squeeze(this, dim);
    public Tensor Expand(params int[] shape) => Ops.Expand(this, shape);
}
