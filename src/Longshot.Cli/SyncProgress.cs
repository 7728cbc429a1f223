namespace Longshot.Cli;

/// <summary>Reports on the calling thread, in order (Progress&lt;T&gt; posts to the thread pool and can reorder
/// lines).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    private readonly object _lock = new();

    public void Report(T value)
    {
        lock (_lock) report(value);
    }
}
