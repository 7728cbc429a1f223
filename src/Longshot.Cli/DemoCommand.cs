using System.Diagnostics;
using Longshot.Diffusion;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Training;
using Longshot.Diffusion.Vae;
using Longshot.Video.Formats;

namespace Longshot.Cli;

/// <summary>
/// `longshot demo`: the README's main command. Generates a Toonworld video of 1,024 frames from the bundled
/// storyline with the shipped checkpoints, by diffusion over diffusion, into ./out/ (MP4 when ffmpeg is installed,
/// GIF otherwise), with the per-level contact sheets and the HTML page.
/// </summary>
internal static class DemoCommand
{
    public const string Usage = """
          demo [--frames 1024] [--out DIR] [--steps 8] [--guidance 2] [--seed 1] [--scheme dod|ar] [--quiet]
                                       Generates a long Toonworld video from the bundled storyline with the shipped
                                       models into ./out/demo.mp4 (demo.gif without ffmpeg), plus contact sheets
                                       of each level and demo.html.
          demo --engine [--steps N]    Engine demo: trains a small spatio-temporal network on a synthetic video.
        """;

    public static int Run(string[] args, CancellationToken ct)
    {
        var a = new Args("demo", args, new HashSet<string> { "quiet", "engine" });
        if (a.Flag("engine")) return EngineDemoCommand(a, ct);
        int frames = a.Int("frames", 1024, 2, 3376);
        string outDir = a.Get("out") ?? "out";
        var d = ShippedModels.Sampler;
        var o = new SamplerOptions(a.Int("steps", d.Steps, 1, 1000), (float)a.Double("guidance", d.GuidanceScale, 0), d.Scheduler);
        ulong seed = (ulong)a.Int("seed", 1, 0);
        string scheme = a.Get("scheme") ?? "dod";
        bool quiet = a.Flag("quiet");
        a.CheckAllUsed();
        if (scheme is not ("dod" or "ar")) throw new ArgumentException($"demo: --scheme must be dod or ar, got '{scheme}'.");
        var sw = Stopwatch.StartNew();
        var vae = AutoencoderKL.Load(ShippedModels.Vae());
        var global = MtdPipelineParts.Load(ShippedModels.Global());
        var local = MtdPipelineParts.Load(ShippedModels.Local());
        var story = Storyline.Load(ShippedModels.DemoStory(), 24, frames);
        int size = vae.Config.SampleSize / vae.Config.DownFactor;
        var pipe = new DodPipeline(global, local, vae, size, size);
        Directory.CreateDirectory(outDir);
        string outPath = Path.Combine(outDir, "demo" + (FFmpeg.IsAvailable ? ".mp4" : ".gif"));
        if (!quiet)
            Console.WriteLine($"{frames} frames ({frames / 24.0:F1} s at 24 fps) from {story.Segments.Count} story segments, {scheme}, " +
                              $"{o.Steps} {o.Scheduler} steps, guidance {o.GuidanceScale}" + (FFmpeg.IsAvailable ? "" : "; ffmpeg not found, writing GIF"));
        GenerateCommand.Produce(pipe, story, frames, 16, seed, o, scheme, null, outPath, quiet, ct);
        Console.WriteLine($"wrote {frames} frames to {Path.GetFullPath(outPath)} in {sw.Elapsed.TotalSeconds:F0} s; " +
                          $"open {Path.GetFullPath(Path.ChangeExtension(outPath, ".html"))} for the video with its hierarchy of keyframes");
        return 0;
    }

    private static int EngineDemoCommand(Args a, CancellationToken ct)
    {
        int steps = a.Int("steps", 60, 1);
        bool quiet = a.Flag("quiet");
        a.CheckAllUsed();
        var progress = new SyncProgress<EngineDemo.StepReport>(r =>
        {
            if (!quiet && (r.Step % 10 == 0 || r.Step == 1 || r.Step == r.Total))
                Console.WriteLine($"step {r.Step,4}/{r.Total}  loss {r.Loss:F5}  {r.MsPerStep,7:F1} ms/step");
        });
        var result = EngineDemo.Run(steps, progress, ct);
        Console.WriteLine($"loss {result.FirstLoss:F5} -> {result.LastLoss:F5} in {steps} steps ({result.Seconds:F1} s, {result.Parameters:N0} parameters)");
        return result.LastLoss < result.FirstLoss ? 0 : 1;
    }
}
