namespace Longshot.Distributed;

/// <summary>
/// A job of several ranks inside one process, one thread per rank: <see cref="CreateGroup"/> gives each thread its
/// communicator. Messages are copied through shared mailboxes and collectives through shared slots, reduced in rank
/// order, so a program runs the same over these as over Open MPI ranks (tests, and machines without MPI).
/// </summary>
public sealed class InProcessCommunicator : ICommunicator
{
    private sealed class Group(int size)
    {
        public readonly Barrier Barrier = new(size);
        public readonly object?[] Slots = new object?[size];
        public readonly List<(int Source, int Tag, object Data)>[] Mailboxes =
            Enumerable.Range(0, size).Select(_ => new List<(int, int, object)>()).ToArray();
    }

    private readonly Group _group;

    private InProcessCommunicator(Group group, int rank) { _group = group; Rank = rank; }

    /// <summary>Communicators for ranks 0 .. <paramref name="size"/> - 1 of one job; give each to its own
    /// thread.</summary>
    public static InProcessCommunicator[] CreateGroup(int size)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), "a job needs at least one rank.");
        var g = new Group(size);
        return Enumerable.Range(0, size).Select(r => new InProcessCommunicator(g, r)).ToArray();
    }

    public int Rank { get; }
    public int Size => _group.Slots.Length;
    public int LocalSize => Size;

    private void Post(object data, int dest, int tag)
    {
        if (dest < 0 || dest >= Size) throw new ArgumentOutOfRangeException(nameof(dest), $"no rank {dest}.");
        var box = _group.Mailboxes[dest];
        lock (box)
        {
            box.Add((Rank, tag, data));
            Monitor.PulseAll(box);
        }
    }

    private (T Data, int Source) Take<T>(int source, int tag, CancellationToken ct)
    {
        var box = _group.Mailboxes[Rank];
        lock (box)
        {
            while (true)
            {
                int i = box.FindIndex(m => (source < 0 || m.Source == source) && m.Tag == tag && m.Data is T);
                if (i >= 0)
                {
                    var m = box[i];
                    box.RemoveAt(i);
                    return ((T)m.Data, m.Source);
                }
                ct.ThrowIfCancellationRequested();
                Monitor.Wait(box, 50);
            }
        }
    }

    public void Send(ReadOnlySpan<float> data, int dest, int tag) => Post(data.ToArray(), dest, tag);
    public void Send(ReadOnlySpan<byte> data, int dest, int tag) => Post(data.ToArray(), dest, tag);

    public (float[] Data, int Source) ReceiveFloats(int source, int tag, CancellationToken ct = default) =>
        Take<float[]>(source, tag, ct);

    public (byte[] Data, int Source) ReceiveBytes(int source, int tag, CancellationToken ct = default) =>
        Take<byte[]>(source, tag, ct);

    public bool HasMessage(int source, int tag)
    {
        var box = _group.Mailboxes[Rank];
        lock (box) return box.Any(m => (source < 0 || m.Source == source) && m.Tag == tag);
    }

    public void SendReceive(ReadOnlySpan<float> send, int dest, Span<float> receive, int source, int tag)
    {
        Send(send, dest, tag);
        var (data, _) = ReceiveFloats(source, tag);
        if (data.Length != receive.Length)
            throw new InvalidOperationException($"SendReceive: {data.Length} values for a buffer of {receive.Length}.");
        data.CopyTo(receive);
    }

    /// <summary>Every rank puts <paramref name="mine"/> in its slot, then reads them all with
    /// <paramref name="read"/>.</summary>
    private void Collective(object mine, Action<object?[]> read)
    {
        _group.Slots[Rank] = mine;
        _group.Barrier.SignalAndWait();
        read(_group.Slots);
        _group.Barrier.SignalAndWait();
    }

    public void Broadcast(Span<byte> data, int root)
    {
        var result = Array.Empty<byte>();
        Collective(data.ToArray(), s => result = (byte[])s[root]!);
        result.CopyTo(data);
    }

    public void Broadcast(Span<float> data, int root)
    {
        var result = Array.Empty<float>();
        Collective(data.ToArray(), s => result = (float[])s[root]!);
        result.CopyTo(data);
    }

    public void AllGather(ReadOnlySpan<float> send, Span<float> receive) =>
        AllGather(send, receive, Enumerable.Repeat(send.Length, Size).ToArray());

    public void AllGather(ReadOnlySpan<float> send, Span<float> receive, int[] counts)
    {
        float[][] all = Array.Empty<float[]>();
        Collective(send[..counts[Rank]].ToArray(), s => all = s.Select(x => (float[])x!).ToArray());
        int at = 0;
        for (int r = 0; r < Size; r++)
        {
            all[r].AsSpan(0, counts[r]).CopyTo(receive[at..]);
            at += counts[r];
        }
    }

    public void AllReduceSum(Span<float> data) => SumInRankOrder(data);

    public void AllReduceSum(Span<double> data) => SumInRankOrder(data);

    private void SumInRankOrder<T>(Span<T> data) where T : System.Numerics.INumber<T>
    {
        T[][] all = Array.Empty<T[]>();
        Collective(data.ToArray(), s => all = s.Select(x => (T[])x!).ToArray());
        for (int i = 0; i < data.Length; i++)
        {
            T sum = T.Zero;
            for (int r = 0; r < Size; r++) sum += all[r][i];
            data[i] = sum;
        }
    }

    public void ReduceScatterSum(ReadOnlySpan<float> send, Span<float> receive, int[] counts)
    {
        var sum = send.ToArray();
        AllReduceSum(sum);
        sum.AsSpan(counts.Take(Rank).Sum(), counts[Rank]).CopyTo(receive);
    }

    public void Barrier() => _group.Barrier.SignalAndWait();

    public void Abort(int exitCode) => Environment.Exit(exitCode);

    public void Dispose() { }
}
