namespace Longshot.Distributed;

/// <summary>
/// The ranks of one job and the messages between them: point-to-point sends and receives of float and byte buffers,
/// and the collectives data-parallel training needs. <see cref="Communicators.FromEnvironment"/> gives the Open MPI
/// one under mpirun and a single-process one (size 1) otherwise, so every command runs unchanged without MPI.
/// Calls are made from one thread at a time.
/// </summary>
public interface ICommunicator : IDisposable
{
    /// <summary>This process's rank, 0 .. <see cref="Size"/> - 1.</summary>
    int Rank { get; }

    /// <summary>Ranks in the job.</summary>
    int Size { get; }

    /// <summary>Ranks of the job on this machine (they share its cores).</summary>
    int LocalSize { get; }

    /// <summary>Sends <paramref name="data"/> to <paramref name="dest"/> with <paramref name="tag"/>.</summary>
    void Send(ReadOnlySpan<float> data, int dest, int tag);

    /// <summary>Sends bytes to <paramref name="dest"/> with <paramref name="tag"/>.</summary>
    void Send(ReadOnlySpan<byte> data, int dest, int tag);

    /// <summary>
    /// Waits for a float message with <paramref name="tag"/> from <paramref name="source"/> (-1: any rank), checking
    /// <paramref name="ct"/> while it waits, and returns it with its sender.
    /// </summary>
    (float[] Data, int Source) ReceiveFloats(int source, int tag, CancellationToken ct = default);

    /// <summary>Whether a message with <paramref name="tag"/> from <paramref name="source"/> (-1: any) is
    /// waiting.</summary>
    bool HasMessage(int source, int tag);

    /// <summary>The same for bytes.</summary>
    (byte[] Data, int Source) ReceiveBytes(int source, int tag, CancellationToken ct = default);

    /// <summary>Sends to one rank and receives from another in one step (no deadlock in rings).</summary>
    void SendReceive(ReadOnlySpan<float> send, int dest, Span<float> receive, int source, int tag);

    /// <summary>Root's <paramref name="data"/> into every rank's.</summary>
    void Broadcast(Span<byte> data, int root);

    /// <summary>Root's floats into every rank's.</summary>
    void Broadcast(Span<float> data, int root);

    /// <summary>Every rank's <paramref name="send"/> (same length everywhere), concatenated by rank.</summary>
    void AllGather(ReadOnlySpan<float> send, Span<float> receive);

    /// <summary>Every rank's part (rank r sends counts[r] values), concatenated by rank.</summary>
    void AllGather(ReadOnlySpan<float> send, Span<float> receive, int[] counts);

    /// <summary>Element-wise sum over ranks, in place.</summary>
    void AllReduceSum(Span<float> data);

    /// <summary>Element-wise sum over ranks, in place, in double precision (norms, counters).</summary>
    void AllReduceSum(Span<double> data);

    /// <summary>
    /// Element-wise sum over ranks of <paramref name="send"/>, of which rank r keeps the counts[r] values starting
    /// at the sum of the counts before it.
    /// </summary>
    void ReduceScatterSum(ReadOnlySpan<float> send, Span<float> receive, int[] counts);

    /// <summary>Returns when every rank has called it.</summary>
    void Barrier();

    /// <summary>Ends the whole job (every rank) with <paramref name="exitCode"/>; does not return.</summary>
    void Abort(int exitCode);
}
