using Longshot.Diffusion.Pipelines;
using Longshot.Distributed;
using Longshot.Tensors;
using Longshot.Tensors.Kernels;

namespace Longshot.Diffusion.Clips;

/// <summary>
/// Video-Infinity's clip parallelism, for any model family: the video is cut into clips (<see cref="ClipLayout"/>),
/// this process samples its share of them, each on a thread of its own with the family's denoiser
/// (<see cref="IClipDenoiser"/>), all in lock-step over the same denoising steps, and at every temporal layer each clip
/// sees its neighbours' frames, the global frames and the statistics of the whole video through the exchange
/// (<see cref="ClipExchange"/>). Over MPI ranks every rank runs this with its share of the clips; the latents of the
/// whole video are all-gathered at the end. A clip's computation depends only on the layout, never on which worker
/// hosts it, so the video is the same for any number of threads or ranks.
/// </summary>
/// <param name="frameShape">One frame's latent shape [c, h, w].</param>
internal sealed class ClipRun(ClipLayout layout, ClipSettings settings, ICommunicator comm, int[] frameShape)
{
    /// <summary>
    /// The latents of every frame, in order, and the bytes the clips hosted here received from other clips over the
    /// whole run (the exchange volume, for the benchmark). With <paramref name="runDir"/> each clip's state is saved
    /// after every step and a rerun with the same <paramref name="identity"/> continues from the last step every clip
    /// finished. <paramref name="stepDone"/> hears rank 0's first clip finish each step.
    /// </summary>
    public (Tensor[] Latents, long BytesExchanged) Run(ClipDenoiserFactory denoiser, string? runDir, string identity,
        int steps, Action<int>? stepDone, Action<string>? warning, CancellationToken ct)
    {
        var (first, count) = layout.Hosted(comm.Rank, comm.Size);
        using var runLock = OpenRun(runDir, identity, comm);
        var store = runDir != null ? new ClipStateStore(runDir) : null;
        int resume = store == null ? 0 : ResumeStep(store, first, count, steps, comm);
        var board = new ClipBoard(layout, comm, first, count, computing: Threads.Count);
        var results = new Tensor[count];
        var errors = new Exception?[count];
        int share = Math.Max(1, Threads.Count / count);
        var threads = Enumerable.Range(0, count).Select(i => new Thread(() =>
        {
            board.BeginTurn();
            try
            {
                using var _ = Threads.LimitTo(share);
                using var noGrad = Tensor.NoGrad();
                var exchange = new ClipExchange(board, layout, settings, first + i, i);
                results[i] = SampleClip(denoiser(first + i, exchange), first + i, exchange, store, resume,
                    i == 0 && comm.Rank == 0 ? stepDone : null, runDir, ct);
            }
            catch (Exception e)
            {
                errors[i] = e;
                board.Fail(e);
            }
            finally { board.EndTurn(); }
        }) { IsBackground = true, Name = $"clip {first + i}" }).ToList();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        foreach (var d in store?.Damaged ?? new List<string>()) warning?.Invoke(d);
        var failure = errors.FirstOrDefault(e => e is not null and not ClipFailedException and not
            OperationCanceledException) ?? errors.FirstOrDefault(e => e != null);
        if (failure is OperationCanceledException or ClipFailedException { InnerException: OperationCanceledException })
            throw new OperationCanceledException(ct);
        if (failure != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        return (Gather(results), board.BytesExchanged);
    }

    /// <summary>
    /// One clip, from its start (its part of the whole video's noise) or from its saved state after
    /// <paramref name="resume"/> steps, to clean latents [L, c, h, w].
    /// </summary>
    private static Tensor SampleClip(IClipDenoiser d, int clip, ClipExchange exchange, ClipStateStore? store,
        int resume, Action<int>? stepDone, string? runDir, CancellationToken ct)
    {
        if (resume > 0)
        {
            var saved = store!.TryLoad(clip, resume, d.Latents.Shape)
                ?? throw new LongshotException($"{runDir}: the state of clip {clip} after step {resume} went " +
                    "missing while resuming.");
            d.Restore(saved.X, saved.Scheduler, saved.RngCounter);
        }
        for (int k = resume; k < d.Steps; k++)
        {
            if (exchange.Agree(ct.IsCancellationRequested)) throw new OperationCanceledException(ct);
            store?.DropBefore(clip, k);
            d.Step(k);
            store?.Save(clip, k + 1, d.Latents, new Dictionary<string, Tensor>(d.SchedulerState), d.RngCounter);
            stepDone?.Invoke(k + 1);
        }
        // Every clip has saved the last step: the earlier ones can go.
        exchange.Agree(false);
        store?.DropBefore(clip, d.Steps);
        return d.Latents;
    }

    /// <summary>The generator of the whole video's noise: clips take their windows of it.</summary>
    public static Rng NoiseOf(ulong seed) => new Rng(seed).Derive(0xC1195);

    /// <summary>Rank 0 takes the run folder's lock and checks its settings; every rank learns whether it
    /// could.</summary>
    private static IDisposable? OpenRun(string? runDir, string identity, ICommunicator comm)
    {
        if (runDir == null) return null;
        IDisposable? run = null;
        string error = "";
        if (comm.Rank == 0)
        {
            try { run = UnitStore.Open(runDir, identity); }
            catch (LongshotException e) { error = e.Message; }
        }
        if (comm.Size > 1)
        {
            var len = new[] { (float)System.Text.Encoding.UTF8.GetByteCount(error) };
            comm.Broadcast(len, 0);
            var bytes = new byte[(int)len[0]];
            if (comm.Rank == 0) System.Text.Encoding.UTF8.GetBytes(error, bytes);
            comm.Broadcast(bytes, 0);
            error = System.Text.Encoding.UTF8.GetString(bytes);
        }
        if (error.Length > 0) throw new LongshotException(error);
        return run;
    }

    /// <summary>The last step every clip of the video has saved (0: none), agreed over the ranks.</summary>
    private static int ResumeStep(ClipStateStore store, int first, int count, int steps, ICommunicator comm)
    {
        var have = new float[steps + 1];
        for (int k = 1; k <= steps; k++) have[k] = 1;
        for (int c = first; c < first + count; c++)
        {
            var saved = store.Steps(c).ToHashSet();
            for (int k = 1; k <= steps; k++) if (!saved.Contains(k)) have[k] = 0;
        }
        var all = new float[have.Length * comm.Size];
        comm.AllGather(have, all);
        for (int k = steps; k >= 1; k--)
            if (Enumerable.Range(0, comm.Size).All(w => all[w * have.Length + k] == 1)) return k;
        return 0;
    }

    /// <summary>Every rank's clips, all-gathered, as one latent per frame.</summary>
    private Tensor[] Gather(Tensor[] mine)
    {
        int frameSize = frameShape.Aggregate(1, (a, b) => a * b);
        var send = mine.SelectMany(t => t.Contiguous().ToArray()).ToArray();
        var all = send;
        if (comm.Size > 1)
        {
            var counts = Enumerable.Range(0, comm.Size).Select(w =>
            {
                var (f, n) = layout.Hosted(w, comm.Size);
                return Enumerable.Range(f, n).Sum(layout.Length) * frameSize;
            }).ToArray();
            all = new float[counts.Sum()];
            comm.AllGather(send, all, counts);
        }
        return Enumerable.Range(0, layout.Frames).Select(f =>
            Tensor.FromArray(all.AsSpan(f * frameSize, frameSize).ToArray(), frameShape)).ToArray();
    }
}
