namespace Longshot.Tensors.IO;

/// <summary>
/// A weight's float32 elements for the length of one operation. A large mapped weight (see
/// <see cref="MappedWeights"/>) is widened into a leased array (<see cref="WeightLeases"/>) given back when the
/// operation ends, so a model read in place reuses the same arrays call after call; any other tensor lends its own
/// storage.
/// </summary>
internal readonly struct WidenedWeight : IDisposable
{
    /// <summary>Weights of at least this many elements are leased; smaller ones use the widened-copy cache.</summary>
    public const int LeaseAbove = 1 << 18;

    private readonly bool _rented;

    /// <summary>The elements.</summary>
    public float[] Array { get; }

    /// <summary>Where the tensor starts in <see cref="Array"/>.</summary>
    public int Offset { get; }

    private WidenedWeight(float[] array, int offset, bool rented)
    {
        Array = array; Offset = offset; _rented = rented;
    }

    /// <summary>The elements of a contiguous tensor.</summary>
    public static WidenedWeight Of(Tensor t)
    {
        if (!t.IsContiguous) throw new ArgumentException("WidenedWeight: the tensor must be contiguous.");
        var buffer = t.Buffer;
        if (buffer.Mapped is { } mapped && buffer.Memory == null && t.Numel >= LeaseAbove && !buffer.HasWidened)
        {
            var array = WeightLeases.Rent(t.Numel);
            mapped.Widen(t.Offset, t.Numel, array);
            return new WidenedWeight(array, 0, true);
        }
        return new WidenedWeight(t.Storage, t.Offset, false);
    }

    public void Dispose()
    {
        if (_rented) WeightLeases.Return(Array);
    }
}
