using Longshot.Tensors.Autograd;

namespace Longshot.Tensors;

/// <summary>
/// Keeps a large model's garbage bounded during inference. Every op allocates its output; a 1.5 B-parameter model's
/// call frees about 30 GB of them, and .NET collects when its own budgets run out, so the resident memory of a call
/// grows with the model rather than with what is alive. When no graph is recorded, tensors of
/// <see cref="LargeElements"/> or more, and inside a <see cref="Bounded"/> scope (a published model's call) every
/// tensor of <see cref="CheckedElements"/> or more, are allocated after a checkpoint (those models also call
/// <see cref="Checkpoint"/> between blocks): once <see cref="Bytes"/> have been allocated since the last collection,
/// the weight leases drop what the last interval did not use and a full collection runs (milliseconds: little is
/// alive). Training keeps .NET's own policy: its graph holds the activations, and collections this frequent would
/// copy them over and over.
/// </summary>
public static class AllocationBudget
{
    /// <summary>Tensors this large (4 MB of float32) check the budget inside a <see cref="Bounded"/> scope. Checking
    /// only at 32 MB let SVD's UNet call peak 150-250 MB higher: its 18 MB activations went unchecked; checking at
    /// 4 MB everywhere made the Toonworld demo 29% slower for 95 MB less (docs/performance.md).</summary>
    public const int CheckedElements = 1 << 20;

    /// <summary>Tensors this large (32 MB of float32, the large-object heap's threshold here) check the budget
    /// anywhere.</summary>
    public const int LargeElements = 8 << 20;

    [ThreadStatic] private static int _bounded;

    private static long _mark = GC.GetTotalAllocatedBytes();

    /// <summary>Bytes allocated between collections (default 64 MiB, or LONGSHOT_ALLOCATION_BUDGET_MB; 0 turns the
    /// checkpoints off). 1 GiB let SVD's UNet call peak 1.1 GB higher at the same speed (docs/performance.md); an
    /// unreadable value is the default.
    /// </summary>
    public static long Bytes { get; set; } = long.TryParse(
        Environment.GetEnvironmentVariable("LONGSHOT_ALLOCATION_BUDGET_MB"), out var mb) && mb >= 0 ? mb << 20
            : 64L << 20;

    /// <summary>A scope on this thread in which every tensor of <see cref="CheckedElements"/> or more checks the
    /// budget: a call of a model whose weights are large against its activations.</summary>
    public static Scope Bounded()
    {
        _bounded++;
        return new Scope();
    }

    /// <summary>Ends a <see cref="Bounded"/> scope.</summary>
    public readonly struct Scope : IDisposable
    {
        /// <summary>Leaves the scope.</summary>
        public void Dispose() => _bounded--;
    }

    /// <summary>Whether a new tensor of <paramref name="elements"/> checks the budget before it is allocated.</summary>
    internal static bool Checks(int elements) => elements >= (_bounded > 0 ? CheckedElements : LargeElements);

    /// <summary>Collects when the budget is spent and no graph is being recorded.</summary>
    public static void Checkpoint()
    {
        if (Bytes <= 0 || GradMode.IsEnabled || GC.GetTotalAllocatedBytes() - Interlocked.Read(ref _mark) < Bytes)
            return;
        IO.WeightLeases.Trim();
        // The small-object heap is compacted; the large one (weight arrays kept for reuse, tensors over 32 MB) is not:
        // moving those arrays every time doubled the collections' pauses (docs/performance.md).
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        Interlocked.Exchange(ref _mark, GC.GetTotalAllocatedBytes());
    }
}
