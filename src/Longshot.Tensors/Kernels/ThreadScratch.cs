namespace Longshot.Tensors.Kernels;

/// <summary>
/// Per-thread scratch buffers for kernels: grown when too small, never zeroed (callers write before they read), and
/// kept for the thread's next call, so hot loops do not allocate.
/// </summary>
internal static class ThreadScratch
{
    /// <summary>The buffer in <paramref name="cache"/> (a [ThreadStatic] field), replaced by a larger one if
    /// needed.</summary>
    public static float[] Get(ref float[]? cache, long size, bool pinned = false) =>
        cache is { } a
            && a.Length >= size ? a : cache = GC.AllocateUninitializedArray<float>((int)Math.Max(size, 1024), pinned);
}
