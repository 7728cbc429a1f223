using System.Numerics.Tensors;

namespace Longshot.Tensors.IO;

/// <summary>
/// Weights read in place from a memory-mapped file in their stored type (float16, bfloat16 or float32) and widened to
/// float32 only while they are in use. A widened copy is kept until the copies made after it pass
/// <see cref="CacheBytes"/>, then dropped oldest first (a model's weights are used in the same order every step), so a
/// model larger than the cache costs its float32 size only one budget at a time, and processes on one machine share
/// the mapped pages through the page cache instead of each holding a copy. Mapped weights are read-only.
/// </summary>
public static class MappedWeights
{
    private static readonly object Gate = new();
    private static readonly Queue<TensorBuffer> Widened = new();
    private static long _heldBytes;

    /// <summary>The most bytes of widened float32 copies kept at once (default 1 GiB, or LONGSHOT_WEIGHT_CACHE_MB).
    /// A model whose float32 weights fit stays widened after its first step.</summary>
    public static long CacheBytes { get; set; } = DefaultCacheBytes();

    /// <summary>Bytes of widened copies held now.</summary>
    public static long HeldBytes { get { lock (Gate) return _heldBytes; } }

    /// <summary>Drops every widened copy (their mapped weights widen again when next read).</summary>
    public static void Clear()
    {
        lock (Gate)
        {
            while (Widened.Count > 0) Widened.Dequeue().DropWidened();
            _heldBytes = 0;
        }
    }

    /// <summary>Records a newly widened buffer and drops the oldest copies beyond the budget.</summary>
    internal static void Hold(TensorBuffer buffer, long bytes)
    {
        lock (Gate)
        {
            Widened.Enqueue(buffer);
            _heldBytes += bytes;
            while (_heldBytes > CacheBytes && Widened.Count > 1)
            {
                var old = Widened.Dequeue();
                _heldBytes -= (long)old.Length * sizeof(float);
                old.DropWidened();
            }
        }
    }

    private static long DefaultCacheBytes()
    {
        var env = Environment.GetEnvironmentVariable("LONGSHOT_WEIGHT_CACHE_MB");
        return long.TryParse(env, out var mb) && mb >= 0 ? mb << 20 : 1L << 30;
    }
}

/// <summary>One stored tensor's elements inside a mapped file: where they are and how to widen them.</summary>
internal sealed unsafe class MappedElements(SafeTensorsFile file, byte* start, DType dtype, int count)
{
    /// <summary>The file, kept alive (and mapped) while any tensor reads from it.</summary>
    public SafeTensorsFile File { get; } = file;

    public DType DType { get; } = dtype;

    public int Count { get; } = count;

    /// <summary>Converts the stored elements to float32 into <paramref name="dst"/>.</summary>
    public void Widen(Span<float> dst) => Widen(0, Count, dst);

    /// <summary>Converts <paramref name="count"/> stored elements from <paramref name="offset"/> into
    /// <paramref name="dst"/>.</summary>
    public void Widen(int offset, int count, Span<float> dst)
    {
        if (offset < 0 || count < 0 || offset + count > Count || dst.Length < count)
            throw new ArgumentOutOfRangeException(nameof(count), "mapped elements: range outside the tensor.");
        byte* at = start + (long)offset * HalfConvert.Size(DType);
        switch (DType)
        {
            case DType.F32:
                new ReadOnlySpan<float>(at, count).CopyTo(dst);
                break;
            case DType.F16:
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(at, count), dst);
                break;
            case DType.BF16:
                fixed (float* d = dst) Kernels.Bf16.ToFloat((ushort*)at, d, count);
                break;
            default:
                var src = new ReadOnlySpan<double>(at, count);
                for (int i = 0; i < count; i++) dst[i] = (float)src[i];
                break;
        }
    }
}
