namespace Longshot.Tensors.IO;

/// <summary>
/// Arrays that widened weights borrow for the length of one operation. Each thread keeps at most
/// <see cref="Kept"/> of them (an operation borrows one, or two when it reorders a widened weight), and a larger
/// request replaces the smallest, so a model read in place holds about twice its largest weight in float32 between
/// calls. The shared ArrayPool kept a power-of-two array per size for every thread and core instead: 267 MB of a
/// 1.5 B-parameter UNet's call (docs/performance.md).
/// </summary>
internal static class WeightLeases
{
    /// <summary>Arrays each thread keeps between operations.</summary>
    public const int Kept = 2;

    [ThreadStatic] private static float[]?[]? _free;

    /// <summary>An array of at least <paramref name="length"/> elements, not zeroed.</summary>
    public static float[] Rent(int length)
    {
        var free = _free ??= new float[]?[Kept];
        int best = -1;
        for (int i = 0; i < free.Length; i++)
            if (free[i] is { } a && a.Length >= length && (best < 0 || a.Length < free[best]!.Length)) best = i;
        if (best < 0) return GC.AllocateUninitializedArray<float>(length);
        var array = free[best]!;
        free[best] = null;
        return array;
    }

    /// <summary>Gives an array back to this thread's leases (kept if there is room or it is larger than one kept).
    /// </summary>
    public static void Return(float[] array)
    {
        var free = _free ??= new float[]?[Kept];
        int smallest = 0;
        for (int i = 0; i < free.Length; i++)
        {
            if (free[i] == null) { free[i] = array; return; }
            if (free[i]!.Length < free[smallest]!.Length) smallest = i;
        }
        if (free[smallest]!.Length < array.Length) free[smallest] = array;
    }
}
