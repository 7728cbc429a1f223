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
        if (ranks.Rank != 0)
        {
            request.Scheme.ServeRank(pipe, request, ranks, ct);
            return false;
        }
        pipe.Ranks = ranks;
        if (!quiet)
            Console.WriteLine($"{request.Scheme.RanksDescription(ranks.Size)} " +
                $"({Longshot.Tensors.Kernels.Threads.Count} threads each)");
        return true;
    }

    /// <summary>Refuses, under mpirun with several ranks, the schemes that run in one process.</summary>
    public static void CheckRanks(GenerationRequest request)
    {
        if (JobRanks.Distributed && !request.Scheme.RunsOverRanks)
            throw new Longshot.Tensors.LongshotException($"--scheme {request.Scheme.Name} runs in one process: run " +
                "it without mpirun.");
    }

    public static void Produce(LongVideoPipeline pipe, GenerationRequest request, string outPath, bool quiet,
        CancellationToken ct)
    {
        var plan = LongVideoPipeline.Plan(request);
        new ProgressView(quiet).Run(request.Scheme.Title, p =>
        {
            var relay = new SyncProgress<GenerationProgress>(g =>
                p.Report((g.AllDone, g.AllUnits, request.Scheme.ProgressNote(g))));
            GenerationOutput.Write(plan, pipe.GenerateFrames(request, relay, ct), outPath,
                GenerationOutput.Caption(request.Story));
            return 0;
        });
    }
}
