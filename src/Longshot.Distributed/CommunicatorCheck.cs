namespace Longshot.Distributed;

/// <summary>
/// A self-check of a job's communicator (`longshot info --ranks` under mpirun): every operation with values each rank
/// can predict, so a misconfigured cluster shows up as one named failure instead of a wrong video.
/// </summary>
public static class CommunicatorCheck
{
    /// <summary>Runs every operation and returns what was checked; throws <see cref="MpiException"/> on a
    /// mismatch.</summary>
    public static IReadOnlyList<string> Run(ICommunicator c)
    {
        int r = c.Rank, n = c.Size;
        var done = new List<string>();

        // Ring send-receive: each rank passes its rank to the next.
        var got = new float[3];
        c.SendReceive(new float[] { r, r, r }, (r + 1) % n, got, (r + n - 1) % n, 11);
        Expect(got.All(v => v == (r + n - 1) % n), "send-receive", c);
        done.Add("send-receive");

        if (n > 1)
        {
            // Point to point: every rank tells rank 0 its rank, in floats and in bytes.
            if (r == 0)
            {
                var seen = new HashSet<int>();
                for (int k = 1; k < n; k++)
                {
                    var (f, source) = c.ReceiveFloats(-1, 12);
                    var (b, sourceB) = c.ReceiveBytes(source, 13);
                    Expect(f.Length == 2 && f[0] == source && f[1] == -source && b.Length == 1 && b[0] == source
                        && sourceB == source,
                        "send/receive", c);
                    seen.Add(source);
                }
                Expect(seen.Count == n - 1, "send/receive", c);
            }
            else
            {
                c.Send(new float[] { r, -r }, 0, 12);
                c.Send(new[] { (byte)r }, 0, 13);
            }
            done.Add("send/receive");
        }

        var bytes = new byte[] { (byte)(r == 0 ? 7 : 0), (byte)(r == 0 ? 9 : 0) };
        c.Broadcast(bytes, 0);
        var floats = new float[] { r == 0 ? 2.5f : 0f };
        c.Broadcast(floats, 0);
        Expect(bytes[0] == 7 && bytes[1] == 9 && floats[0] == 2.5f, "broadcast", c);
        done.Add("broadcast");

        var all = new float[2 * n];
        c.AllGather(new float[] { r, 10 * r }, all);
        Expect(Enumerable.Range(0, n).All(k => all[2 * k] == k && all[2 * k + 1] == 10 * k), "all-gather", c);
        var counts = Enumerable.Range(0, n).Select(k => k + 1).ToArray();        // rank k sends k + 1 values
        var ragged = new float[counts.Sum()];
        c.AllGather(Enumerable.Repeat((float)r, r + 1).ToArray(), ragged, counts);
        int at = 0;
        for (int k = 0; k < n; k++)
            for (int i = 0; i <= k; i++) Expect(ragged[at++] == k, "all-gather with counts", c);
        done.Add("all-gather");

        var sum = Enumerable.Range(0, 1000).Select(i => (float)(i + r)).ToArray();
        c.AllReduceSum(sum);
        Expect(Enumerable.Range(0, 1000).All(i => sum[i] == n * i + n * (n - 1) / 2f), "all-reduce", c);
        done.Add("all-reduce");

        var part = new float[counts[r]];
        c.ReduceScatterSum(Enumerable.Range(0, counts.Sum()).Select(i => (float)i).ToArray(), part, counts);
        int first = counts.Take(r).Sum();
        Expect(Enumerable.Range(0, part.Length).All(i => part[i] == n * (first + i)), "reduce-scatter", c);
        done.Add("reduce-scatter");

        c.Barrier();
        done.Add("barrier");
        return done;
    }

    private static void Expect(bool ok, string what, ICommunicator c)
    {
        if (!ok) throw new MpiException($"rank {c.Rank} of {c.Size}: {what} gave wrong values.");
    }
}
