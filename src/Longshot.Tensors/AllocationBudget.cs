using System.Runtime;

namespace Longshot.Tensors;

/// <summary>
/// Keeps a large model's garbage bounded. Every op allocates its output; a 1.5 B-parameter model's call frees
/// gigabytes of them, and .NET collects the large-object heap only when its own budget runs out, so the resident
/// memory of a call grows with the model rather than with what is alive. Models call <see cref="Checkpoint"/>
/// between blocks, and every tensor of <see cref="LargeElements"/> or more (the large-object heap's) is allocated
/// after one: once <see cref="Bytes"/> have been allocated since the last collection, a full compacting collection
/// runs (milliseconds: little is alive).
/// </summary>
public static class AllocationBudget
{
    /// <summary>Tensors this large (32 MB of float32, the large-object heap's threshold here) check the budget
    /// before they are allocated.</summary>
    public const int LargeElements = 8 << 20;

    private static long _mark = GC.GetTotalAllocatedBytes();

    /// <summary>Bytes allocated between collections (default 128 MiB, or LONGSHOT_ALLOCATION_BUDGET_MB; 0 turns the
    /// checkpoints off). 1 GiB let SVD's UNet call peak 1.1 GB higher at the same speed (docs/performance.md).
    /// </summary>
    public static long Bytes { get; set; } = long.TryParse(
        Environment.GetEnvironmentVariable("LONGSHOT_ALLOCATION_BUDGET_MB"), out var mb) && mb >= 0 ? mb << 20
            : 128L << 20;

    /// <summary>Collects when the budget is spent.</summary>
    public static void Checkpoint()
    {
        if (Bytes <= 0 || GC.GetTotalAllocatedBytes() - Interlocked.Read(ref _mark) < Bytes) return;
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        Interlocked.Exchange(ref _mark, GC.GetTotalAllocatedBytes());
    }
}
