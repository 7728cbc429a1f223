namespace Longshot.Tensors.IO;

/// <summary>
/// Arrays that widened weights borrow for the length of one operation. Each thread keeps at most
/// <see cref="Kept"/> of them, of up to <see cref="KeptElements"/> each (an operation borrows one, or two when it
/// reorders a widened weight); a larger request replaces the smallest. Larger arrays are not kept: SVD's largest
/// kernels (118 MB in float32) are used at its lowest resolution, and a kept copy would still be held at the top
/// level, where a call's activations peak. The shared ArrayPool kept a power-of-two array per size for every thread
/// and core instead: 267 MB after a 1.5 B-parameter UNet's call (docs/performance.md).
/// </summary>
internal static class WeightLeases
{
    /// <summary>Arrays each thread keeps between operations.</summary>
    public const int Kept = 2;

    /// <summary>The largest array kept (16 MB of float32); larger ones go to the garbage collector.</summary>
    public const int KeptElements = 1 << 22;

    [ThreadStatic] private static float[]?[]? _free;

    private static float[]?[] Free => _free ??= new float[]?[Kept];

    /// <summary>An array of at least <paramref name="length"/> elements, not zeroed.</summary>
    public static float[] Rent(int length)
    {
        var free = Free;
        int best = -1;
        for (int i = 0; i < free.Length; i++)
            if (free[i] is { } a && a.Length >= length && (best < 0 || a.Length < free[best]!.Length)) best = i;
        if (best < 0) return GC.AllocateUninitializedArray<float>(length);
        var array = free[best]!;
        free[best] = null;
        return array;
    }

    /// <summary>Gives an array back to this thread's leases (kept if it is not too large and there is room, or it is
    /// larger than one kept).</summary>
    public static void Return(float[] array)
    {
        if (array.Length > KeptElements) return;
        var free = Free;
        int smallest = 0;
        for (int i = 0; i < free.Length; i++)
        {
            if (free[i] == null) { free[i] = array; return; }
            if (free[i]!.Length < free[smallest]!.Length) smallest = i;
        }
        if (free[smallest]!.Length < array.Length) free[smallest] = array;
    }
}
