using System.Runtime.CompilerServices;
using Longshot.Tensors.Autograd;
using Longshot.Tensors.Kernels;

namespace Longshot.Tensors;

/// <summary>
/// A float32 tensor: a view (shape, strides, offset) over shared managed storage.
/// Reshape, transpose, narrow and broadcast return views that copy nothing.
/// Storage is a plain managed array, so nothing ever needs disposing; a tensor moved to an accelerator
/// (<see cref="ToDevice"/>) holds the device's memory instead.
/// </summary>
public sealed partial class Tensor
{
    /// <summary>The elements this tensor and its views share.</summary>
    internal readonly TensorBuffer Buffer;

    /// <summary>The float32 array behind <see cref="Buffer"/>.</summary>
    internal float[] Storage => Buffer.Data;

    /// <summary>Size of each dimension.</summary>
    public int[] Shape { get; }

    /// <summary>Element stride of each dimension (0 for broadcast dimensions).</summary>
    public int[] Strides { get; }

    /// <summary>Index of the first element in the storage.</summary>
    public int Offset { get; }

    /// <summary>Number of elements.</summary>
    public int Numel { get; }

    /// <summary>True when gradients flow to this tensor (a trainable leaf or the result of an op on one).</summary>
    public bool RequiresGrad { get; internal set; }

    /// <summary>How this tensor was computed; null for leaves and for tensors made without a graph.</summary>
    internal Node? Node { get; set; }

    /// <summary>Optional name, used in error messages and by modules.</summary>
    public string? Name { get; set; }

    internal Tensor(float[] storage, int[] shape, int[] strides, int offset)
        : this(new TensorBuffer(storage), shape, strides, offset) { }

    internal Tensor(TensorBuffer buffer, int[] shape, int[] strides, int offset)
    {
        Buffer = buffer;
        Shape = shape;
        Strides = strides;
        Offset = offset;
        Numel = ShapeUtil.Numel(shape);
    }

    internal Tensor(float[] storage, int[] shape) : this(storage, shape, ShapeUtil.ContiguousStrides(shape), 0) { }

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public int Size(int dim) => Shape[ShapeUtil.NormDim(dim, Rank, "Size")];

    /// <summary>True when the elements are laid out row-major without gaps (offset may be non-zero).</summary>
    public bool IsContiguous => ShapeUtil.IsContiguous(Shape, Strides);

    /// <summary>The contiguous elements as a span. Throws when the tensor is not contiguous.</summary>
    public Span<float> Span
    {
        get
        {
            if (!IsContiguous)
                throw new InvalidOperationException($"Span: tensor {ShapeUtil.Str(Shape)} is not contiguous; call " +
                $"Contiguous() first.");
            return Storage.AsSpan(Offset, Numel);
        }
    }

    // ---------- creation ----------

    /// <summary>A new zero-filled tensor.</summary>
    public static Tensor Zeros(params int[] shape)
    {
        int n = ShapeUtil.CheckedNumel(shape);
        if (AllocationBudget.Checks(n)) AllocationBudget.Checkpoint();
        return new(new float[n], (int[])shape.Clone());
    }

    /// <summary>A new tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(float value, params int[] shape)
    {
        var t = Zeros(shape);
        if (value != 0) Array.Fill(t.Storage, value);
        return t;
    }

    /// <summary>A new tensor of ones.</summary>
    public static Tensor Ones(params int[] shape) => Full(1f, shape);

    /// <summary>A scalar (rank 0) tensor.</summary>
    public static Tensor Scalar(float value) => new(new[] { value }, Array.Empty<int>());

    /// <summary>A new uninitialised tensor; every element must be written before it is read.</summary>
    internal static Tensor Empty(params int[] shape)
    {
        int n = ShapeUtil.CheckedNumel(shape);
        if (AllocationBudget.Checks(n)) AllocationBudget.Checkpoint();
        return new(GC.AllocateUninitializedArray<float>(n), (int[])shape.Clone());
    }

    /// <summary>Wraps (without copying) a row-major array with the given shape.</summary>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        if (ShapeUtil.CheckedNumel(shape) != data.Length)
            throw new ArgumentException($"FromArray: {data.Length} elements cannot have shape {ShapeUtil.Str(shape)}.");
        return new Tensor(data, (int[])shape.Clone());
    }

    /// <summary>0, 1, ..., n-1 as a float tensor.</summary>
    public static Tensor Arange(int n)
    {
        var t = Empty(n);
        for (int i = 0; i < n; i++) t.Storage[i] = i;
        return t;
    }

    /// <summary>Samples from N(0, 1) drawn from <paramref name="rng"/>.</summary>
    public static Tensor Randn(Rng rng, params int[] shape)
    {
        var t = Empty(shape);
        rng.FillNormal(t.Storage);
        return t;
    }

    /// <summary>Samples from U[low, high) drawn from <paramref name="rng"/>.</summary>
    public static Tensor Rand(Rng rng, float low, float high, params int[] shape)
    {
        var t = Empty(shape);
        rng.FillUniform(t.Storage, low, high);
        return t;
    }

    // ---------- element access and copies ----------

    /// <summary>Reads one element by its full index.</summary>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public float this[params int[] index]
    {
        get => Storage[FlatIndex(index)];
        set => Storage[FlatIndex(index)] = value;
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != Rank)
            throw new ArgumentException($"Index of rank {index.Length} for tensor of shape {ShapeUtil.Str(Shape)}.");
        int p = Offset;
        for (int d = 0; d < Rank; d++)
        {
            int i = index[d];
            if ((uint)i >= (uint)Shape[d])
                throw new IndexOutOfRangeException($"Index {i} out of range for dimension {d} of shape " +
                $"{ShapeUtil.Str(Shape)}.");
            p += i * Strides[d];
        }
        return p;
    }

    /// <summary>The single value of a one-element tensor.</summary>
    public float Item()
    {
        if (Numel != 1)
            throw new InvalidOperationException($"Item: tensor has shape {ShapeUtil.Str(Shape)}, not one element.");
        return Buffer.Memory != null ? ToArray()[0] : Storage[Offset];
    }

    /// <summary>A fresh row-major copy of the elements.</summary>
    public float[] ToArray()
    {
        if (Buffer.Memory != null) return ToDevice(Devices.Device.Cpu).Storage;
        var dst = GC.AllocateUninitializedArray<float>(Numel);
        StridedCopy.Gather(this, dst, 0);
        return dst;
    }

    /// <summary>This tensor when already contiguous, otherwise a contiguous copy (gradient flows through).</summary>
    public Tensor Contiguous()
    {
        if (IsContiguous) return this;
        if (Devices.DeviceOps.Backend("Contiguous", this) is { } be)
            return Graph.Record(Devices.DeviceOps.Copy(be, this), OpKind.Contiguous, this);
        var r = new Tensor(ToArray(), (int[])Shape.Clone());
        return Graph.Record(r, OpKind.Contiguous, this);
    }

    /// <summary>A new tensor sharing this one's storage, cut off from the graph.</summary>
    public Tensor Detach() => new(Buffer, Shape, Strides, Offset) { Name = Name };

    /// <summary>An independent copy (no graph).</summary>
    public Tensor Clone() => Devices.DeviceOps.Backend("Clone", this) is { } be ? Devices.DeviceOps.Copy(be, this)
        : new(ToArray(), (int[])Shape.Clone());

    /// <summary>Copies <paramref name="src"/>'s values into this tensor in place (shapes must match; no
    /// graph).</summary>
    public void CopyFrom(Tensor src)
    {
        ShapeUtil.CheckSame("CopyFrom", Shape, src.Shape);
        if (Buffer.Memory != null)
        {
            Devices.DeviceOps.CopyInto(this, src);
            return;
        }
        if (src.Buffer.Memory != null) src = src.ToDevice(Devices.Device.Cpu);
        if (IsContiguous) { StridedCopy.Gather(src, Storage, Offset); return; }
        var tmp = src.ToArray();
        StridedCopy.Scatter(tmp, this);
    }

    /// <summary>Marks this tensor as a trainable leaf (or freezes it). Only leaves may be changed.</summary>
    public Tensor SetRequiresGrad(bool value = true)
    {
        if (Node != null)
            throw new InvalidOperationException("SetRequiresGrad: only leaf tensors (not results of ops) can change " +
            "RequiresGrad.");
        RequiresGrad = value;
        return this;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var head = $"Tensor{ShapeUtil.Str(Shape)}{(Name != null ? " " + Name : "")}";
        if (Numel > 16) return head;
        return head + " [" + string.Join(", ", ToArray().Select(v => v.ToString("G5"))) + "]";
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool SameShape(Tensor a, Tensor b) => a.Shape.AsSpan().SequenceEqual(b.Shape);
}
