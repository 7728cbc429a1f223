namespace Longshot.Tensors.IO;

/// <summary>
/// Arrays that widened weights borrow for the length of one operation. At most <see cref="Kept"/> are kept between
/// operations (an operation borrows one, or two when it reorders a widened weight); a larger request replaces the
/// smallest. Arrays over <see cref="KeptElements"/> are kept only while they are in use: <see cref="Trim"/> (run
/// before each inference collection) drops those no operation borrowed since the last one. SVD's largest kernels
/// (118 MB in float32) are used at its lowest resolution, over and over, and a fresh array for each cost 7 GB of
/// allocation per UNet call; a copy kept after that level would still be held at the top level, where a call's
/// activations peak. The shared ArrayPool kept a power-of-two array per size for every thread and core instead: 267
/// MB after a 1.5 B-parameter UNet's call (docs/performance.md).
/// </summary>
internal static class WeightLeases
{
    /// <summary>Arrays kept between operations.</summary>
    public const int Kept = 2;

    /// <summary>The largest array (16 MB of float32) kept whether or not it is in use.</summary>
    public const int KeptElements = 1 << 22;

    private static readonly object Gate = new();
    private static readonly float[]?[] Free = new float[]?[Kept];
    private static readonly bool[] Borrowed = new bool[Kept];

    /// <summary>An array of at least <paramref name="length"/> elements, not zeroed.</summary>
    public static float[] Rent(int length)
    {
        lock (Gate)
        {
            int best = -1;
            for (int i = 0; i < Free.Length; i++)
                if (Free[i] is { } a && a.Length >= length && (best < 0 || a.Length < Free[best]!.Length)) best = i;
            if (best >= 0)
            {
                var array = Free[best]!;
                Free[best] = null;
                return array;
            }
        }
        return GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>Gives an array back (kept if there is room, or if it is larger than one kept).</summary>
    public static void Return(float[] array)
    {
        lock (Gate)
        {
            int smallest = 0;
            for (int i = 0; i < Free.Length; i++)
            {
                if (Free[i] == null) { Keep(i, array); return; }
                if (Free[i]!.Length < Free[smallest]!.Length) smallest = i;
            }
            if (Free[smallest]!.Length < array.Length) Keep(smallest, array);
        }
    }

    /// <summary>Drops the arrays over <see cref="KeptElements"/> that were not borrowed since the last trim.</summary>
    public static void Trim()
    {
        lock (Gate)
            for (int i = 0; i < Free.Length; i++)
            {
                if (Free[i] is { Length: > KeptElements } && !Borrowed[i]) Free[i] = null;
                Borrowed[i] = false;
            }
    }

    /// <summary>Drops every kept array (tests start from nothing).</summary>
    internal static void Clear()
    {
        lock (Gate) Array.Clear(Free);
    }

    private static void Keep(int slot, float[] array)
    {
        Free[slot] = array;
        Borrowed[slot] = true;
    }
}
