namespace Longshot.Distributed;

/// <summary>A job of one rank: collectives are copies; a rank has nobody to send to.</summary>
public sealed class SingleProcessCommunicator : ICommunicator
{
    public int Rank => 0;
    public int Size => 1;
    public int LocalSize => 1;

    private static InvalidOperationException Alone() => new("a single-process job has no other rank to send to.");

    public void Send(ReadOnlySpan<float> data, int dest, int tag) => throw Alone();
    public void Send(ReadOnlySpan<byte> data, int dest, int tag) => throw Alone();
    public (float[] Data, int Source) ReceiveFloats(int source, int tag, CancellationToken ct = default) =>
        throw Alone();
    public bool HasMessage(int source, int tag) => false;
    public (byte[] Data, int Source) ReceiveBytes(int source, int tag, CancellationToken ct = default) => throw Alone();

    public void SendReceive(ReadOnlySpan<float> send, int dest, Span<float> receive, int source, int tag)
    {
        if (dest != 0 || source != 0) throw Alone();
        send.CopyTo(receive);
    }

    public void Broadcast(Span<byte> data, int root) => CheckRoot(root);
    public void Broadcast(Span<float> data, int root) => CheckRoot(root);
    public void AllGather(ReadOnlySpan<float> send, Span<float> receive) => send.CopyTo(receive);
    public void AllGather(ReadOnlySpan<float> send, Span<float> receive, int[] counts) =>
        send[..counts[0]].CopyTo(receive);
    public void AllReduceSum(Span<float> data) { }
    public void AllReduceSum(Span<double> data) { }
    public void ReduceScatterSum(ReadOnlySpan<float> send, Span<float> receive, int[] counts) =>
        send[..counts[0]].CopyTo(receive);
    public void Barrier() { }
    public void Abort(int exitCode) => Environment.Exit(exitCode);
    public void Dispose() { }

    private static void CheckRoot(int root)
    {
        if (root != 0) throw new ArgumentOutOfRangeException(nameof(root), "a single-process job has only rank 0.");
    }
}
