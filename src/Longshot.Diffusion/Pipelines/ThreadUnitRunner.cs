using Longshot.Tensors;
using Longshot.Tensors.Kernels;

namespace Longshot.Diffusion.Pipelines;

/// <summary>
/// Samples batches on this process's cores: one batch per worker side by side, each on its share of the kernel
/// threads; a batch that runs alone (the global unit) runs on the calling thread with every thread (from a pool
/// thread its kernels' own parallel loops ran slower, docs/performance.md).
/// </summary>
internal sealed class ThreadUnitRunner(int workers, Func<List<WorkUnit>, CancellationToken, List<Tensor>> sample,
    CancellationToken ct) : IUnitRunner
{
    private readonly List<(Task<List<Tensor>> Task, List<WorkUnit> Units)> _running = new();

    public int Capacity { get; } = workers;
    public int Running => _running.Count;

    /// <summary>Whether a batch has finished, so that <see cref="WaitAny"/> returns at once.</summary>
    public bool AnyFinished => _running.Any(x => x.Task.IsCompleted);

    public void Start(List<WorkUnit> batch, bool alone)
    {
        int share = Math.Max(1, Threads.Count / Capacity);
        _running.Add((alone
            ? Task.FromResult(sample(batch, ct))
            : Task.Run(() =>
            {
                using var _ = Threads.LimitTo(share);
                return sample(batch, ct);
            }), batch));
    }

    public (List<WorkUnit> Units, List<Tensor> Latents) WaitAny(CancellationToken token)
    {
        int i = Task.WaitAny(_running.Select(x => (Task)x.Task).ToArray());
        var (task, units) = _running[i];
        _running.RemoveAt(i);
        return (units, task.GetAwaiter().GetResult());
    }

    /// <summary>Cancelled or failed: lets the batches still sampling stop, so nothing runs on unseen.</summary>
    public void Dispose()
    {
        try { Task.WaitAll(_running.Select(x => (Task)x.Task).ToArray()); } catch (AggregateException) { }
    }
}
