using Longshot.Diffusion.Output;
using Longshot.Diffusion.Pipelines;

namespace Longshot.Cli;

/// <summary>Runs a generation into its output files with a progress bar over all units of the plan.</summary>
internal static class GenerationView
{
    public static void Produce(LongVideoPipeline pipe, GenerationRequest request, string outPath, bool quiet,
        CancellationToken ct)
    {
        var plan = LongVideoPipeline.Plan(request);
        new ProgressView(quiet).Run(request.Scheme.Title(), p =>
        {
            var relay = new SyncProgress<GenerationProgress>(g =>
                p.Report((g.AllDone, g.AllUnits, $"level {g.Level}/{g.Levels}")));
            GenerationOutput.Write(plan, pipe.GenerateFrames(request, relay, ct), outPath,
                GenerationOutput.Caption(request.Story));
            return 0;
        });
    }
}
