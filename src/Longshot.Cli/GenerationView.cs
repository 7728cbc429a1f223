using Longshot.Diffusion.Output;
using Longshot.Diffusion.Pipelines;

namespace Longshot.Cli;

/// <summary>Runs a generation into its output files with a progress bar over all units of the plan.</summary>
internal static class GenerationView
{
    /// <summary>
    /// Under mpirun with several ranks: rank 0 keeps the pipeline (and is told which ranks sample) and returns true;
    /// every other rank samples units for it until it is done and returns false (nothing more to do).
    /// </summary>
    public static bool UseRanks(LongVideoPipeline pipe, GenerationRequest request, bool quiet, CancellationToken ct)
    {
        if (!JobRanks.Distributed) return true;
        var ranks = JobRanks.Current;
        if (request.Scheme == GenerationScheme.ClipParallel)
        {
            // Every rank samples its clips; rank 0 also decodes and writes.
            pipe.Ranks = ranks;
            if (ranks.Rank != 0)
            {
                pipe.GenerateLatents(request, null, ct);
                return false;
            }
            if (!quiet)
                Console.WriteLine($"running on {ranks.Size} MPI ranks, each sampling its share of the clips " +
                    $"({Longshot.Tensors.Kernels.Threads.Count} threads each)");
            return true;
        }
        if (ranks.Rank != 0)
        {
            Longshot.Diffusion.Distributed.RankWorker.Serve(pipe, request, ranks, ct);
            return false;
        }
        pipe.Ranks = ranks;
        if (!quiet)
            Console.WriteLine($"running on {ranks.Size} MPI ranks: rank 0 schedules, saves and decodes, " +
                              $"{ranks.Size - 1} sample units ({Longshot.Tensors.Kernels.Threads.Count} threads each)");
        return true;
    }

    /// <summary>Refuses, under mpirun with several ranks, the schemes that run in one process.</summary>
    public static void CheckRanks(GenerationRequest request)
    {
        if (!JobRanks.Distributed) return;
        if (request.Scheme == GenerationScheme.Autoregressive)
            throw new Longshot.Tensors.LongshotException("--scheme ar is one chain of units, one after another: run " +
                "it without mpirun.");
        if (request.Scheme == GenerationScheme.Extended)
            throw new Longshot.Tensors.LongshotException("--scheme extended is one model call per step: run it " +
                "without mpirun.");
    }

    public static void Produce(LongVideoPipeline pipe, GenerationRequest request, string outPath, bool quiet,
        CancellationToken ct)
    {
        var plan = LongVideoPipeline.Plan(request);
        new ProgressView(quiet).Run(request.Scheme.Title(), p =>
        {
            var relay = new SyncProgress<GenerationProgress>(g =>
                p.Report((g.AllDone, g.AllUnits, request.Scheme == GenerationScheme.ClipParallel
                    ? $"step {g.AllDone}/{g.AllUnits}" : $"level {g.Level}/{g.Levels}")));
            GenerationOutput.Write(plan, pipe.GenerateFrames(request, relay, ct), outPath,
                GenerationOutput.Caption(request.Story));
            return 0;
        });
    }
}
