using Longshot.Tensors;
using Longshot.Tensors.Autograd;
using Longshot.Tensors.Nn;
using Longshot.Tensors.Optim;

namespace Longshot.Distributed;

/// <summary>
/// Data-parallel training over the ranks of a job. Every rank computes the loss of its own part of the batch
/// (scaled so that the parts add up to the whole batch's loss), then <see cref="Step"/> sums the gradients over the
/// ranks, clips them by their global norm and applies AdamW, so N ranks with b clips each follow one process with
/// N x b clips to float rounding. ZeRO (Rajbhandari et al.) shards what each rank keeps: stage 1 the AdamW moments
/// (each rank updates only the parameters it owns, then the updated parameters are all-gathered), stage 2 also the
/// summed gradients (reduce-scatter instead of all-reduce). With one rank it is exactly the single-process step.
/// </summary>
public sealed class DataParallel
{
    /// <summary>Floats per all-reduce call: large enough to amortise a call, small enough to bound the copy.</summary>
    public const int BucketFloats = 1 << 22;

    private readonly ICommunicator _ranks;
    private readonly IReadOnlyList<(string Name, Tensor Param)> _params;
    private readonly int[] _owner;           // rank that owns each parameter under ZeRO
    private readonly int[] _byOwner;         // parameter indices grouped by owner, in parameter order within each
    private readonly int[] _ownerCounts;     // floats owned by each rank

    /// <summary>The optimizer of this rank: over every parameter, or (ZeRO) over the ones it owns.</summary>
    public AdamW Optimizer { get; }

    /// <summary>0 (replicated), 1 (optimizer state sharded) or 2 (also gradients).</summary>
    public int ZeroStage { get; }

    public DataParallel(ICommunicator ranks, IEnumerable<(string Name, Tensor Param)> trainable, int zeroStage,
        Func<IEnumerable<(string Name, Tensor Param)>, AdamW> optimizer)
    {
        if (zeroStage is < 0 or > 2) throw new SettingException("Zero", $"must be 0, 1 or 2, got {zeroStage}.");
        _ranks = ranks;
        _params = trainable.ToList();
        ZeroStage = ranks.Size > 1 ? zeroStage : 0;
        // Parameters go whole to the least-loaded rank, largest first: every rank gets about 1/N of the values.
        _owner = new int[_params.Count];
        var load = new long[ranks.Size];
        foreach (int i in Enumerable.Range(0, _params.Count).OrderByDescending(i => _params[i].Param.Numel)
            .ThenBy(i => i))
        {
            int r = Array.IndexOf(load, load.Min());
            _owner[i] = r;
            load[r] += _params[i].Param.Numel;
        }
        _byOwner = Enumerable.Range(0, _params.Count).OrderBy(i => _owner[i]).ThenBy(i => i).ToArray();
        _ownerCounts = load.Select(l => checked((int)l)).ToArray();
        Optimizer = optimizer(ZeroStage == 0 ? _params : _params.Where((_, i) => _owner[i] == ranks.Rank));
    }

    /// <summary>Clips [From, From + Count) of a batch of <paramref name="perRank"/> x ranks clips: this rank's
    /// part.</summary>
    public (int From, int Count) Part(int perRank) => (_ranks.Rank * perRank, perRank);

    /// <summary>Ranks in the job.</summary>
    public int Ranks => _ranks.Size;

    /// <summary>
    /// Sums <paramref name="grads"/> over the ranks, clips the sum to <paramref name="maxNorm"/> and updates the
    /// parameters; afterwards every rank holds the same parameters. Returns the global norm before clipping.
    /// </summary>
    public double Step(GradStore grads, double maxNorm)
    {
        if (_ranks.Size == 1)
        {
            double n = GradClip.ClipByGlobalNorm(grads, _params.Select(p => p.Param), maxNorm);
            Optimizer.Step(grads);
            return n;
        }
        using var _ = Tensor.NoGrad();
        var present = PresentEverywhere(grads);
        double norm;
        if (ZeroStage < 2)
        {
            var summed = AllReduce(grads, present);
            norm = GradClip.ClipByGlobalNorm(summed, _params.Select(p => p.Param), maxNorm);
            Optimizer.Step(summed);
        }
        else
        {
            var (own, sq) = ReduceScatter(grads, present);
            var total = new[] { sq };
            _ranks.AllReduceSum(total.AsSpan());
            norm = Math.Sqrt(total[0]);
            if (norm > maxNorm && norm > 0)
            {
                float scale = (float)(maxNorm / (norm + 1e-6));
                own = own.Select(x => (x.Param, Ops.MulScalar(x.Grad, scale))).ToList();
            }
            Optimizer.Step(GradStore.Of(own));
        }
        if (ZeroStage > 0) GatherParameters();
        return norm;
    }

    /// <summary>Which parameters got a gradient on some rank (they are updated; the others are left alone).</summary>
    private bool[] PresentEverywhere(GradStore grads)
    {
        var flags = _params.Select(p => grads.Get(p.Param) != null ? 1f : 0f).ToArray();
        _ranks.AllReduceSum(flags);
        return flags.Select(f => f > 0).ToArray();
    }

    private float[] Flatten(GradStore grads, bool[] present, IEnumerable<int> order, int total)
    {
        var flat = new float[total];
        int at = 0;
        foreach (int i in order)
        {
            int n = _params[i].Param.Numel;
            if (present[i] && grads.Get(_params[i].Param) is { } g) g.Contiguous().Span.CopyTo(flat.AsSpan(at, n));
            at += n;
        }
        return flat;
    }

    private GradStore AllReduce(GradStore grads, bool[] present)
    {
        int total = _params.Sum(p => p.Param.Numel);
        var flat = Flatten(grads, present, Enumerable.Range(0, _params.Count), total);
        for (int at = 0; at < total; at += BucketFloats)
            _ranks.AllReduceSum(flat.AsSpan(at, Math.Min(BucketFloats, total - at)));
        var result = new List<(Tensor, Tensor)>();
        int off = 0;
        for (int i = 0; i < _params.Count; i++)
        {
            var p = _params[i].Param;
            if (present[i]) result.Add((p, Tensor.FromArray(flat.AsSpan(off, p.Numel).ToArray(), p.Shape)));
            off += p.Numel;
        }
        return GradStore.Of(result);
    }

    /// <summary>This rank's parameters with their summed gradients, and the squared norm of those gradients.</summary>
    private (List<(Tensor Param, Tensor Grad)> Own, double SquaredNorm) ReduceScatter(GradStore grads, bool[] present)
    {
        var flat = Flatten(grads, present, _byOwner, _ownerCounts.Sum());
        var mine = new float[_ownerCounts[_ranks.Rank]];
        _ranks.ReduceScatterSum(flat, mine, _ownerCounts);
        var own = new List<(Tensor, Tensor)>();
        double sq = 0;
        int at = 0;
        foreach (int i in _byOwner.Where(i => _owner[i] == _ranks.Rank))
        {
            var p = _params[i].Param;
            var g = mine.AsSpan(at, p.Numel);
            if (present[i])
            {
                foreach (var v in g) sq += (double)v * v;
                own.Add((p, Tensor.FromArray(g.ToArray(), p.Shape)));
            }
            at += p.Numel;
        }
        return (own, sq);
    }

    /// <summary>After a sharded update: every rank's owned parameters to every rank.</summary>
    private void GatherParameters()
    {
        var mine = new float[_ownerCounts[_ranks.Rank]];
        int at = 0;
        foreach (int i in _byOwner.Where(i => _owner[i] == _ranks.Rank))
        {
            _params[i].Param.Contiguous().Span.CopyTo(mine.AsSpan(at));
            at += _params[i].Param.Numel;
        }
        var all = new float[_ownerCounts.Sum()];
        _ranks.AllGather(mine, all, _ownerCounts);
        at = 0;
        foreach (int i in _byOwner)
        {
            var p = _params[i].Param;
            all.AsSpan(at, p.Numel).CopyTo(p.Span);
            at += p.Numel;
        }
    }

    /// <summary>
    /// The whole optimizer state, gathered from the ranks under ZeRO (a collective: every rank calls it), keyed as
    /// one process's AdamW keys it, so checkpoints do not depend on the number of ranks.
    /// </summary>
    public Dictionary<string, Tensor> FullOptimizerState()
    {
        var local = Optimizer.StateTensors();
        if (ZeroStage == 0) return local;
        // Moments of parameters not stepped yet do not exist; a rank sends zeros for them and they are left out.
        var exists = _params.Select(p => local.ContainsKey($"{p.Name}.exp_avg") ? 1f : 0f).ToArray();
        _ranks.AllReduceSum(exists);
        var state = new Dictionary<string, Tensor>();
        foreach (var suffix in new[] { "exp_avg", "exp_avg_sq" })
        {
            var mine = new float[_ownerCounts[_ranks.Rank]];
            int at = 0;
            foreach (int i in _byOwner.Where(i => _owner[i] == _ranks.Rank))
            {
                if (local.TryGetValue($"{_params[i].Name}.{suffix}", out var t)) t.Span.CopyTo(mine.AsSpan(at));
                at += _params[i].Param.Numel;
            }
            var all = new float[_ownerCounts.Sum()];
            _ranks.AllGather(mine, all, _ownerCounts);
            at = 0;
            foreach (int i in _byOwner)
            {
                int n = _params[i].Param.Numel;
                if (exists[i] > 0) state[$"{_params[i].Name}.{suffix}"] = Tensor.FromArray(all.AsSpan(at, n).ToArray(),
                    n);
                at += n;
            }
        }
        return state;
    }

    /// <summary>
    /// Saves a training checkpoint of the whole job (every rank calls it; rank 0 writes the file, atomically): the
    /// same file one process would write, so a run can resume on any number of ranks.
    /// </summary>
    public void SaveCheckpoint(string path, ParameterStore model, long step, Rng rng, Ema? ema,
        IReadOnlyDictionary<string, string> extra)
    {
        var state = FullOptimizerState();
        if (_ranks.Rank == 0) TrainingCheckpoint.Save(path, model, state, Optimizer, step, rng, ema, extra);
        _ranks.Barrier();
    }
}
