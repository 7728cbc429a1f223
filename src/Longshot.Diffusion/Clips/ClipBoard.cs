using Longshot.Distributed;

namespace Longshot.Diffusion.Clips;

/// <summary>
/// Where the clips this process hosts meet at every exchange: each clip's thread posts what it shows its neighbours
/// (its first and last frames at a layer, its global frames, its partial sums of a normalisation's statistics, whether
/// it must stop) and waits; the last to arrive passes the edges between neighbouring clips here, swaps the outer edges
/// with the neighbouring ranks, all-gathers the global frames or the partial sums over the job, then wakes them all.
/// Every clip makes the same rounds in the same order (same model, same steps); a round of another kind is an error,
/// and a failure in any clip fails every waiting one.
/// </summary>
internal sealed class ClipBoard
{
    private const int RightTag = 41, LeftTag = 42;

    private enum Kind { Neighbours, Global, Sum, Agree }

    private readonly ICommunicator _comm;
    /// <summary>Global frames hosted by each rank (what each contributes to the all-gather).</summary>
    private readonly int[] _globalsPerRank;
    /// <summary>Clips hosted by each rank.</summary>
    private readonly int[] _clipsPerRank;
    private readonly int _first, _count;
    private readonly object _gate = new();
    private readonly float[]?[] _head, _tail, _global, _before, _after;
    private readonly double[]?[] _partial;
    private double[]? _sum;
    private readonly bool[] _stop;
    private float[]? _allGlobal;
    private bool _anyStop;
    private Kind _kind;
    private int _arrived, _frameSize;
    private long _round;
    private Exception? _failure;

    /// <summary>
    /// Clips computing at once between rounds: as many as there are kernel threads, so that dozens of clip threads
    /// take turns on the cores instead of all running at once (and evicting each other from the caches). A clip gives
    /// its turn back while it waits in a round.
    /// </summary>
    private readonly SemaphoreSlim? _turns;

    public ClipBoard(ClipLayout layout, ICommunicator comm, int first, int count, int computing = 0)
    {
        _turns = computing > 0 && computing < count ? new SemaphoreSlim(computing) : null;
        _comm = comm; _first = first; _count = count;
        _globalsPerRank = Enumerable.Range(0, comm.Size).Select(w =>
        {
            var (f, n) = layout.Hosted(w, comm.Size);
            return Enumerable.Range(f, n).Sum(c => layout.GlobalsIn(c).Count);
        }).ToArray();
        _clipsPerRank = Enumerable.Range(0, comm.Size).Select(w => layout.Hosted(w, comm.Size).Count).ToArray();
        _head = new float[count][]; _tail = new float[count][]; _global = new float[count][];
        _before = new float[count][]; _after = new float[count][]; _stop = new bool[count];
        _partial = new double[count][];
    }

    /// <summary>Bytes the clips hosted here received from other clips (the exchange volume, for the
    /// benchmark).</summary>
    public long BytesExchanged { get; private set; }

    /// <summary>Swaps edges: (last frames of the clip before, first frames of the clip after); null at the video's
    /// ends.</summary>
    public (float[]? Before, float[]? After) Neighbours(int local, float[] head, float[] tail)
    {
        Round(Kind.Neighbours, local, 0, () => { _head[local] = head; _tail[local] = tail; });
        return (_before[local], _after[local]);
    }

    /// <summary>Every clip's global frames ([frameSize] each), concatenated in video order.</summary>
    public float[] Global(int local, float[] mine, int frameSize)
    {
        Round(Kind.Global, local, frameSize, () => _global[local] = mine);
        return _allGlobal!;
    }

    /// <summary>Every clip's <paramref name="partial"/> (same length everywhere), summed in video order.</summary>
    public double[] Sum(int local, double[] partial)
    {
        Round(Kind.Sum, local, partial.Length, () => _partial[local] = partial);
        return _sum!;
    }

    /// <summary>True on every clip of the job when any of them asked to stop.</summary>
    public bool Agree(int local, bool stop)
    {
        Round(Kind.Agree, local, 0, () => _stop[local] = stop);
        return _anyStop;
    }

    /// <summary>Fails every clip waiting here, now and later, with <paramref name="e"/>.</summary>
    public void Fail(Exception e)
    {
        lock (_gate)
        {
            _failure ??= e;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Waits for a turn to compute (call once when a clip's thread starts).</summary>
    public void BeginTurn() => _turns?.Wait();

    /// <summary>Gives the turn back (when a clip's thread ends).</summary>
    public void EndTurn() => _turns?.Release();

    private void Round(Kind kind, int local, int frameSize, Action post)
    {
        EndTurn();
        try { RoundLocked(kind, local, frameSize, post); }
        finally { BeginTurn(); }
    }

    private void RoundLocked(Kind kind, int local, int frameSize, Action post)
    {
        lock (_gate)
        {
            ThrowIfFailed();
            if (_arrived == 0) { _kind = kind; _frameSize = frameSize; }
            else if (_kind != kind || _frameSize != frameSize)
                Fail(new InvalidOperationException($"clip exchange: clip {_first + local} is at a {kind} round " +
                    $"while others are at a {_kind} round."));
            ThrowIfFailed();
            post();
            if (++_arrived == _count)
            {
                try { Complete(); }
                catch (Exception e) { Fail(e); }
                _arrived = 0;
                _round++;
                Monitor.PulseAll(_gate);
            }
            else
            {
                long round = _round;
                while (round == _round && _failure == null) Monitor.Wait(_gate);
            }
            ThrowIfFailed();
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is OperationCanceledException) throw new OperationCanceledException();
        if (_failure != null) throw new ClipFailedException(_failure);
    }

    /// <summary>Runs the round, once every local clip has posted (on the last one's thread).</summary>
    private void Complete()
    {
        switch (_kind)
        {
            case Kind.Neighbours:
                for (int i = 0; i < _count; i++)
                {
                    _before[i] = i > 0 ? _tail[i - 1] : null;
                    _after[i] = i < _count - 1 ? _head[i + 1] : null;
                }
                SwapOuterEdges();
                for (int i = 0; i < _count; i++)
                    BytesExchanged += 4L * ((_before[i]?.Length ?? 0) + (_after[i]?.Length ?? 0));
                break;
            case Kind.Global:
                GatherGlobal();
                break;
            case Kind.Sum:
                SumPartials();
                break;
            case Kind.Agree:
                var flags = new float[_comm.Size];
                _comm.AllGather(new[] { _stop.Any(s => s) ? 1f : 0f }, flags);
                _anyStop = flags.Any(f => f != 0);
                break;
        }
    }

    /// <summary>The edges between this rank's clips and the neighbouring ranks' clips.</summary>
    private void SwapOuterEdges()
    {
        int r = _comm.Rank, ranks = _comm.Size;
        if (ranks == 1) return;
        float[] lastTail = _tail[_count - 1]!, firstHead = _head[0]!;
        // Rightwards: my last clip's tail becomes the next rank's "before"; I get the previous rank's.
        if (r > 0 && r < ranks - 1)
        {
            var got = new float[lastTail.Length];
            _comm.SendReceive(lastTail, r + 1, got, r - 1, RightTag);
            _before[0] = got;
        }
        else if (r == 0) _comm.Send(lastTail, r + 1, RightTag);
        else _before[0] = _comm.ReceiveFloats(r - 1, RightTag).Data;
        // Leftwards: my first clip's head becomes the previous rank's "after".
        if (r > 0 && r < ranks - 1)
        {
            var got = new float[firstHead.Length];
            _comm.SendReceive(firstHead, r - 1, got, r + 1, LeftTag);
            _after[_count - 1] = got;
        }
        else if (r == ranks - 1) _comm.Send(firstHead, r - 1, LeftTag);
        else _after[_count - 1] = _comm.ReceiveFloats(r + 1, LeftTag).Data;
    }

    /// <summary>
    /// Every clip's partial sums gathered over the ranks (each double as a float and the float of what it left out,
    /// 48 bits in all) and added in clip order on every rank: the same bits whichever rank hosts which clip.
    /// </summary>
    private void SumPartials()
    {
        int n = _frameSize;
        var mine = new float[2 * n * _count];
        for (int i = 0; i < _count; i++)
            for (int j = 0; j < n; j++)
            {
                double v = _partial[i]![j];
                float hi = (float)v;
                mine[2 * (i * n + j)] = hi;
                mine[2 * (i * n + j) + 1] = (float)(v - hi);
            }
        var all = mine;
        if (_comm.Size > 1)
        {
            var counts = Enumerable.Range(0, _comm.Size).Select(w => _clipsPerRank[w] * 2 * n).ToArray();
            all = new float[counts.Sum()];
            _comm.AllGather(mine, all, counts);
            BytesExchanged += 4L * (all.Length - mine.Length) * _count;
        }
        var sum = new double[n];
        for (int c = 0; c < all.Length / (2 * n); c++)
            for (int j = 0; j < n; j++) sum[j] += (double)all[2 * (c * n + j)] + all[2 * (c * n + j) + 1];
        _sum = sum;
    }

    private void GatherGlobal()
    {
        var mine = _global.SelectMany(g => g!).ToArray();
        var counts = _globalsPerRank.Select(g => g * _frameSize).ToArray();
        var all = new float[counts.Sum()];
        if (_comm.Size == 1) mine.CopyTo(all, 0);
        else _comm.AllGather(mine, all, counts);
        foreach (var g in _global) BytesExchanged += 4L * (all.Length - g!.Length);
        _allGlobal = all;
    }
}

/// <summary>A clip stopped because another clip of the same video failed; the inner exception says why.</summary>
internal sealed class ClipFailedException(Exception inner)
    : Exception($"another clip of the video failed: {inner.Message}", inner);
