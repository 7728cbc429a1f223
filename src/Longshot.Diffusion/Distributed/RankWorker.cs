using Longshot.Diffusion.Pipelines;
using Longshot.Distributed;

namespace Longshot.Diffusion.Distributed;

/// <summary>
/// A sampling rank (1 .. N-1) of a generation over MPI: it builds the same schedule from the same request as rank 0,
/// then samples whatever batch rank 0 sends, with the given frames' latents that come with it, until told to stop.
/// </summary>
public static class RankWorker
{
    /// <summary>Serves rank 0 until it says stop; returns the number of units sampled here.</summary>
    public static int Serve(LongVideoPipeline pipe, GenerationRequest r, DodSchedule schedule, ICommunicator ranks,
        CancellationToken ct = default)
    {
        if (ranks.Rank == 0)
            throw new InvalidOperationException("rank 0 runs the pipeline; only other ranks serve it.");
        int sampled = 0;
        while (true)
        {
            var (message, _) = ranks.ReceiveFloats(0, RankMessages.WorkTag, ct);
            var units = RankMessages.Units(message, schedule);
            if (units.Count == 0) return sampled;
            var known = RankMessages.Given(message, units, pipe.UnitShape);
            var latents = pipe.SampleBatch(r, units, known, ct);
            ranks.Send(RankMessages.Result(units, latents), 0, RankMessages.ResultTag);
            sampled += units.Count;
        }
    }
}
