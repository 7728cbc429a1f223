namespace Longshot.Distributed;

/// <summary>
/// MPI_COMM_WORLD of Open MPI. Errors are returned, not fatal (MPI_ERRORS_RETURN), and become
/// <see cref="MpiException"/>s carrying MPI's error string. Receives poll (MPI_Iprobe) so that they honour
/// cancellation. When a rank dies, mpirun ends the job; <see cref="Abort"/> ends it from inside.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    private static MpiCommunicator? _instance;
    private bool _disposed;

    public int Rank { get; }
    public int Size { get; }
    public int LocalSize { get; }

    private MpiCommunicator(int rank, int size)
    {
        Rank = rank; Size = size;
        LocalSize = int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE"), out var l)
            && l > 0 ? l : size;
    }

    /// <summary>Initialises MPI once per process (MPI_Init_thread, serialized calls) and returns the world.</summary>
    public static MpiCommunicator Initialize()
    {
        if (_instance != null) return _instance;
        int initialized = 0;
        MpiLibrary.Check(MpiLibrary.Initialized(&initialized), "MPI_Initialized");
        if (initialized == 0)
        {
            int provided = 0;
            MpiLibrary.Check(MpiLibrary.InitThread(null, null, MpiLibrary.ThreadSerialized, &provided),
                "MPI_Init_thread");
            if (provided < MpiLibrary.ThreadSerialized)
                throw new MpiException("this Open MPI cannot take calls from more than one thread " +
                    "(MPI_THREAD_SERIALIZED).");
        }
        MpiLibrary.Check(MpiLibrary.CommSetErrhandler(MpiLibrary.CommWorld, MpiLibrary.ErrorsReturn),
            "MPI_Comm_set_errhandler");
        int rank = 0, size = 0;
        MpiLibrary.Check(MpiLibrary.CommRank(MpiLibrary.CommWorld, &rank), "MPI_Comm_rank");
        MpiLibrary.Check(MpiLibrary.CommSize(MpiLibrary.CommWorld, &size), "MPI_Comm_size");
        return _instance = new MpiCommunicator(rank, size);
    }

    public void Send(ReadOnlySpan<float> data, int dest, int tag) => Send(data, MpiLibrary.Float, dest, tag);

    public void Send(ReadOnlySpan<byte> data, int dest, int tag) => Send(data, MpiLibrary.Byte, dest, tag);

    public (float[] Data, int Source) ReceiveFloats(int source, int tag, CancellationToken ct = default) =>
        Receive<float>(source, tag, MpiLibrary.Float, ct);

    public (byte[] Data, int Source) ReceiveBytes(int source, int tag, CancellationToken ct = default) =>
        Receive<byte>(source, tag, MpiLibrary.Byte, ct);

    private static void Send<T>(ReadOnlySpan<T> data, nint type, int dest, int tag) where T : unmanaged
    {
        fixed (T* p = data) MpiLibrary.Check(MpiLibrary.Send(p, data.Length, type, dest, tag, MpiLibrary.CommWorld),
            "MPI_Send");
    }

    private static (T[] Data, int Source) Receive<T>(int source, int tag, nint type,
        CancellationToken ct) where T : unmanaged
    {
        var (status, count) = Wait(source, tag, type, ct);
        var data = new T[count];
        fixed (T* p = data)
            MpiLibrary.Check(MpiLibrary.Recv(p, count, type, status.Source, tag, MpiLibrary.CommWorld, &status),
                "MPI_Recv");
        return (data, status.Source);
    }

    public bool HasMessage(int source, int tag)
    {
        MpiLibrary.Status status;
        int flag = 0;
        MpiLibrary.Check(MpiLibrary.Iprobe(source, tag, MpiLibrary.CommWorld, &flag, &status), "MPI_Iprobe");
        return flag != 0;
    }

    /// <summary>Polls for a matching message (1 ms apart once idle) so that cancellation is honoured.</summary>
    private static (MpiLibrary.Status Status, int Count) Wait(int source, int tag, nint type, CancellationToken ct)
    {
        MpiLibrary.Status status;
        int flag = 0, spins = 0;
        while (true)
        {
            MpiLibrary.Check(MpiLibrary.Iprobe(source, tag, MpiLibrary.CommWorld, &flag, &status), "MPI_Iprobe");
            if (flag != 0) break;
            ct.ThrowIfCancellationRequested();
            if (++spins > 100) Thread.Sleep(1); else Thread.SpinWait(50);
        }
        int count = 0;
        MpiLibrary.Check(MpiLibrary.GetCount(&status, type, &count), "MPI_Get_count");
        return (status, count);
    }

    public void SendReceive(ReadOnlySpan<float> send, int dest, Span<float> receive, int source, int tag)
    {
        MpiLibrary.Status status;
        fixed (float* s = send, r = receive)
            MpiLibrary.Check(MpiLibrary.Sendrecv(s, send.Length, MpiLibrary.Float, dest, tag, r, receive.Length,
                MpiLibrary.Float,
                source, tag, MpiLibrary.CommWorld, &status), "MPI_Sendrecv");
    }

    public void Broadcast(Span<byte> data, int root)
    {
        fixed (byte* p = data) MpiLibrary.Check(MpiLibrary.Bcast(p, data.Length, MpiLibrary.Byte, root,
            MpiLibrary.CommWorld), "MPI_Bcast");
    }

    public void Broadcast(Span<float> data, int root)
    {
        fixed (float* p = data) MpiLibrary.Check(MpiLibrary.Bcast(p, data.Length, MpiLibrary.Float, root,
            MpiLibrary.CommWorld), "MPI_Bcast");
    }

    public void AllGather(ReadOnlySpan<float> send, Span<float> receive)
    {
        if (receive.Length != send.Length * Size)
            throw new ArgumentException("all-gather: the receive buffer must hold every rank's part.");
        fixed (float* s = send, r = receive)
            MpiLibrary.Check(MpiLibrary.Allgather(s, send.Length, MpiLibrary.Float, r, send.Length, MpiLibrary.Float,
                MpiLibrary.CommWorld),
                "MPI_Allgather");
    }

    public void AllGather(ReadOnlySpan<float> send, Span<float> receive, int[] counts)
    {
        var displs = Offsets(counts, receive.Length, "all-gather");
        if (send.Length != counts[Rank])
            throw new ArgumentException($"all-gather: rank {Rank} sends {send.Length} values, counts say " +
            $"{counts[Rank]}.");
        fixed (float* s = send, r = receive)
        fixed (int* c = counts, d = displs)
            MpiLibrary.Check(MpiLibrary.Allgatherv(s, send.Length, MpiLibrary.Float, r, c, d, MpiLibrary.Float,
                MpiLibrary.CommWorld),
                "MPI_Allgatherv");
    }

    public void AllReduceSum(Span<float> data)
    {
        fixed (float* p = data)
            MpiLibrary.Check(MpiLibrary.Allreduce(MpiLibrary.InPlace, p, data.Length, MpiLibrary.Float,
                MpiLibrary.OpSum, MpiLibrary.CommWorld),
                "MPI_Allreduce");
    }

    public void AllReduceSum(Span<double> data)
    {
        fixed (double* p = data)
            MpiLibrary.Check(MpiLibrary.Allreduce(MpiLibrary.InPlace, p, data.Length, MpiLibrary.Double,
                MpiLibrary.OpSum, MpiLibrary.CommWorld),
                "MPI_Allreduce");
    }

    public void ReduceScatterSum(ReadOnlySpan<float> send, Span<float> receive, int[] counts)
    {
        Offsets(counts, send.Length, "reduce-scatter");
        if (receive.Length != counts[Rank])
            throw new ArgumentException($"reduce-scatter: rank {Rank} receives {counts[Rank]} values.");
        fixed (float* s = send, r = receive)
        fixed (int* c = counts)
            MpiLibrary.Check(MpiLibrary.ReduceScatter(s, r, c, MpiLibrary.Float, MpiLibrary.OpSum,
                MpiLibrary.CommWorld), "MPI_Reduce_scatter");
    }

    public void Barrier() => MpiLibrary.Check(MpiLibrary.Barrier(MpiLibrary.CommWorld), "MPI_Barrier");

    public void Abort(int exitCode)
    {
        MpiLibrary.AbortFn(MpiLibrary.CommWorld, exitCode);
        Environment.Exit(exitCode);
    }

    /// <summary>Finalizes MPI (collectively: every rank must get here).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        int finalized = 0;
        MpiLibrary.Finalized(&finalized);
        if (finalized == 0) MpiLibrary.Finalize();
    }

    private int[] Offsets(int[] counts, int total, string op)
    {
        if (counts.Length != Size || counts.Any(c => c < 0))
            throw new ArgumentException($"{op}: one non-negative count per rank is needed.");
        var displs = new int[Size];
        for (int r = 1; r < Size; r++) displs[r] = displs[r - 1] + counts[r - 1];
        if (displs[^1] + counts[^1] != total)
            throw new ArgumentException($"{op}: the counts add up to {displs[^1] + counts[^1]}, not {total}.");
        return displs;
    }
}
