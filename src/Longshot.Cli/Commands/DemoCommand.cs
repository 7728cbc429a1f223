using System.CommandLine;
using System.Diagnostics;
using Longshot.Diffusion;
using Longshot.Diffusion.Output;
using Longshot.Diffusion.Pipelines;
using Longshot.Video.Formats;

namespace Longshot.Cli.Commands;

/// <summary>
/// `longshot demo`: the README's main command. Generates a Toonworld video of 1,024 frames from the bundled
/// storyline with the shipped checkpoints, by diffusion over diffusion, into ./out/ (MP4 when ffmpeg is installed,
/// GIF otherwise), with the per-level contact sheets and the HTML page. `demo --engine` is a short engine check.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var frames = CliOptions.Int("--frames", "frames to generate", 1024, 2, 3376);
        var outDir = CliOptions.Text("--out", "output folder (default: out)", "DIR");
        var s = new SamplingOptions();
        var quiet = CliOptions.Flag("--quiet", "no progress output");
        var device = DeviceOption.Create();
        var engine = CliOptions.Flag("--engine",
            "instead: train a small spatio-temporal network on a synthetic video (engine check)");
        var engineSteps = CliOptions.Int("--engine-steps", "training steps of --engine", 60, 1, 100_000);
        var c = new Command("demo",
            "Generate a long Toonworld video from the bundled storyline with the shipped models into " +
                                    "out/demo.mp4 (demo.gif without ffmpeg), with contact sheets of each level and " +
                                        "demo.html.")
            .With(frames, outDir).With(s.All).With(device, quiet, engine, engineSteps);
        return c.Runs((p, ct) =>
        {
            if (p.GetValue(engine)) return EngineCheck(p.GetValue(engineSteps), p.GetValue(quiet), ct);
            var sw = Stopwatch.StartNew();
            int n = p.GetValue(frames);
            string dir = p.GetValue(outDir) ?? "out";
            string outPath = Path.Combine(dir, "demo" + (FFmpeg.IsAvailable ? ".mp4" : ".gif"));
            VideoWriters.CheckPath(outPath, "--out");
            var request = s.Request(p, Storyline.Load(ShippedModels.DemoStory(), Storyline.DefaultFps, n), n)
                .Validate();
            GenerationView.CheckRanks(request);
            var pipe = ShippedModels.Pipeline();
            DeviceOption.Apply(p, device, pipe);
            if (!request.Scheme.OnStoryModels)
                pipe.ExtendedModel = MtdPipelineParts.Load(ShippedModels.Extended());
            if (!GenerationView.UseRanks(pipe, request, p.GetValue(quiet), ct)) return 0;
            if (!p.GetValue(quiet))
                Console.WriteLine($"{n} frames ({n / GenerationOutput.Fps:F1} s at 24 fps) from " +
                    $"{request.Story.Segments.Count} story " +
                                  $"segments, {request.Scheme.Name}, {request.Sampler.Steps} " +
                                      $"{request.Sampler.Scheduler} steps, " +
                                  $"guidance {request.Sampler.GuidanceScale}"
                                      + (FFmpeg.IsAvailable ? "" : "; ffmpeg not found, writing GIF"));
            GenerationView.Produce(pipe, request, outPath, p.GetValue(quiet), ct);
            Console.WriteLine($"wrote {n} frames to {Path.GetFullPath(outPath)} in {sw.Elapsed.TotalSeconds:F0} s; " +
                              $"open {Path.GetFullPath(GenerationOutput.PagePath(outPath))} for the video with its " +
                                  $"hierarchy of keyframes");
            return 0;
        });
    }

    private static int EngineCheck(int steps, bool quiet, CancellationToken ct)
    {
        var progress = new SyncProgress<EngineDemo.StepReport>(r =>
        {
            if (!quiet && (r.Step % 10 == 0 || r.Step == 1 || r.Step == r.Total))
                Console.WriteLine($"step {r.Step,4}/{r.Total}  loss {r.Loss:F5}  {r.MsPerStep,7:F1} ms/step");
        });
        var result = EngineDemo.Run(steps, progress, ct);
        Console.WriteLine($"loss {result.FirstLoss:F5} -> {result.LastLoss:F5} in {steps} steps " +
                          $"({result.Seconds:F1} s, {result.Parameters:N0} parameters)");
        return result.LastLoss < result.FirstLoss ? 0 : 1;
    }
}
