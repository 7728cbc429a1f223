using Longshot.Diffusion.Pipelines;
using Longshot.Distributed;
using Longshot.Tensors;

namespace Longshot.Diffusion.Distributed;

/// <summary>
/// Rank 0's side of generation over MPI ranks: every other rank is a worker; an idle one is sent the next ready batch
/// with the latents of its given frames, and its result comes back. Rank 0 schedules (the dependency order of
/// the scheme's NextBatches), saves units to the run folder and decodes, and samples on its own
/// cores too (<paramref name="local"/>, one batch at a time on a pool thread), so N ranks give N samplers. On the way
/// out every rank is told to stop, after busy ones have returned their batch.
/// </summary>
internal sealed class RankUnitRunner(ICommunicator ranks, Dictionary<int, Tensor> known, DodSchedule schedule,
    Func<WorkUnit, int[]> shapeOf, ThreadUnitRunner? local = null) : IUnitRunner
{
    private readonly Queue<int> _idle = new(Enumerable.Range(1, ranks.Size - 1));
    private readonly Dictionary<int, List<WorkUnit>> _busy = new();

    public int Capacity => ranks.Size - 1 + (local?.Capacity ?? 0);
    public int Running => _busy.Count + (local?.Running ?? 0);

    public void Start(List<WorkUnit> batch, bool alone)
    {
        // Other ranks first: this one also decodes. Its own batches never run "alone" on this thread, which must keep
        // answering the ranks.
        if (_idle.Count == 0 && local != null)
        {
            local.Start(batch, alone: false);
            return;
        }
        int rank = _idle.Dequeue();
        ranks.Send(RankMessages.Work(batch, known), rank, RankMessages.WorkTag);
        _busy[rank] = batch;
    }

    public (List<WorkUnit> Units, List<Tensor> Latents) WaitAny(CancellationToken ct)
    {
        if (local == null || local.Running == 0)
        {
            var (message, source) = ranks.ReceiveFloats(-1, RankMessages.ResultTag, ct);
            return Accept(message, source);
        }
        // Both kinds out: poll the ranks and this process's batch in turn (MPI calls stay on this thread).
        while (true)
        {
            if (local.AnyFinished) return local.WaitAny(ct);
            if (_busy.Count > 0 && ranks.HasMessage(-1, RankMessages.ResultTag))
            {
                var (message, source) = ranks.ReceiveFloats(-1, RankMessages.ResultTag, ct);
                return Accept(message, source);
            }
            ct.ThrowIfCancellationRequested();
            Thread.Sleep(1);
        }
    }

    private (List<WorkUnit> Units, List<Tensor> Latents) Accept(float[] message, int source)
    {
        if (!_busy.Remove(source, out var batch))
            throw new InvalidOperationException($"rank {source} returned a batch it was not given.");
        _idle.Enqueue(source);
        var units = RankMessages.Units(message, schedule);
        if (!units.SequenceEqual(batch))
            throw new InvalidOperationException($"rank {source} returned other units than it was given.");
        var latents = new List<Tensor>(units.Count);
        int at = RankMessages.PayloadStart(units.Count);
        foreach (var u in units)
        {
            var shape = shapeOf(u);
            int n = shape.Aggregate(1, (a, b) => a * b);
            if (at + n > message.Length) throw new InvalidOperationException($"rank {source} returned too few values.");
            latents.Add(Tensor.FromArray(message.AsSpan(at, n).ToArray(), shape));
            at += n;
        }
        if (at != message.Length) throw new InvalidOperationException($"rank {source} returned too many values.");
        return (units, latents);
    }

    /// <summary>Collects the batches still out (their results are dropped) and tells every rank to stop.</summary>
    public void Dispose()
    {
        local?.Dispose();
        foreach (var rank in _busy.Keys.ToList())
        {
            ranks.ReceiveFloats(rank, RankMessages.ResultTag);
            _busy.Remove(rank);
            _idle.Enqueue(rank);
        }
        foreach (var rank in _idle) ranks.Send(RankMessages.Stop, rank, RankMessages.WorkTag);
    }
}
