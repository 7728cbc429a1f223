namespace Longshot.Studio;

/// <summary>
/// The events of one job (JSON lines for Server-Sent Events): kept for the job's lifetime so that a page that opens
/// late replays them, and followed live until the job ends.
/// </summary>
public sealed class JobEvents
{
    private readonly List<string> _log = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _closed;

    public void Add(string json)
    {
        TaskCompletionSource wake;
        lock (_log)
        {
            _log.Add(json);
            wake = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        wake.TrySetResult();
    }

    /// <summary>No more events: followers finish after the last one.</summary>
    public void Close()
    {
        lock (_log) _closed = true;
        Add("{\"type\":\"end\"}");
    }

    /// <summary>Every event so far, then each new one as it comes, until the job ends or the follower leaves.</summary>
    public async IAsyncEnumerable<string> Follow(
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        int next = 0;
        while (!ct.IsCancellationRequested)
        {
            string[] batch;
            bool closed;
            Task wait;
            lock (_log)
            {
                batch = _log.Skip(next).ToArray();
                closed = _closed;
                wait = _changed.Task;
            }
            next += batch.Length;
            foreach (var e in batch) yield return e;
            if (closed) yield break;
            // A ping every 15 s of silence keeps proxies from closing the stream.
            var woke = await Task.WhenAny(wait, Task.Delay(TimeSpan.FromSeconds(15), ct));
            if (ct.IsCancellationRequested) yield break;
            if (woke != wait) yield return "{\"type\":\"ping\"}";
        }
    }
}
