namespace Longshot.Tensors.Kernels;

/// <summary>The engine's thread count and a static split of work ranges across it.</summary>
public static class Threads
{
    private static int _count = ReadCount();
    private static readonly AsyncLocal<int> Limit = new();

    /// <summary>
    /// Worker count for kernels: LONGSHOT_THREADS, else the processor count; lowered inside <see cref="LimitTo"/>
    /// (for code that runs several independent jobs side by side, each on its share of the cores).
    /// </summary>
    public static int Count
    {
        get { int l = Limit.Value; return l > 0 && l < _count ? l : _count; }
        set => _count = value > 0 ? value
            : throw new ArgumentOutOfRangeException(nameof(value), "thread count must be positive.");
    }

    /// <summary>
    /// Runs <paramref name="jobs"/> independent jobs at once, each with its share of the kernel threads (one each when
    /// there are as many jobs as threads). Small models use cores better this way than by splitting every kernel.
    /// </summary>
    public static void SideBySide(int jobs, Action<int> job, CancellationToken ct = default)
    {
        int share = Math.Max(1, Count / Math.Max(1, jobs));
        Parallel.For(0, jobs,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, jobs), CancellationToken = ct }, j =>
        {
            using var _ = LimitTo(share);
            job(j);
        });
    }

    /// <summary>Limits kernels started from this async flow to <paramref name="count"/> threads until
    /// disposed.</summary>
    public static IDisposable LimitTo(int count)
    {
        int previous = Limit.Value;
        Limit.Value = Math.Max(1, count);
        return new Restore(previous);
    }

    private sealed class Restore(int previous) : IDisposable
    {
        public void Dispose() => Limit.Value = previous;
    }

    private static int ReadCount()
    {
        var s = Environment.GetEnvironmentVariable("LONGSHOT_THREADS");
        return int.TryParse(s, out var n) && n > 0 ? n : Environment.ProcessorCount;
    }

    /// <summary>How many chunks <see cref="For(int,int,Action{int,int,int})"/> will use for n items.</summary>
    public static int Chunks(int n, int minPerChunk) => Math.Max(1, Math.Min(Count, n / Math.Max(1, minPerChunk)));

    /// <summary>
    /// Runs body(start, end) over [0, n) split into at most <see cref="Count"/> contiguous chunks.
    /// The split depends only on n and the thread count, so results are reproducible.
    /// </summary>
    public static void For(int n, int minPerChunk, Action<int, int> body) =>
        For(n, minPerChunk, (_, s, e) => body(s, e));

    /// <summary>As <see cref="For(int,int,Action{int,int})"/>, also passing the chunk index (for per-chunk partial
    /// results).</summary>
    public static void For(int n, int minPerChunk, Action<int, int, int> body)
    {
        int chunks = Chunks(n, minPerChunk);
        if (chunks <= 1 || n <= 1) { body(0, 0, n); return; }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = chunks }, c =>
        {
            long s = (long)n * c / chunks, e = (long)n * (c + 1) / chunks;
            if (e > s) body(c, (int)s, (int)e);
        });
    }
}
