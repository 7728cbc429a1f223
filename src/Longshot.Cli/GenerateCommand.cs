using Longshot.Diffusion;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Training;
using Longshot.Diffusion.Vae;
using Longshot.Video.Formats;
using Longshot.Video.Imaging;

namespace Longshot.Cli;

/// <summary>`longshot generate`: storyline in, long video out (diffusion over diffusion, or the AR baseline).</summary>
internal static class GenerateCommand
{
    public const string Usage = """
          generate --story FILE --out FILE [--global DIR] [--local DIR] [--vae DIR] [--frames N] [--length 16]
                   [--steps 8] [--guidance 2] [--sampler dpm++|ddim|ddpm] [--seed 1] [--scheme dod|ar] [--batch 1]
                   [--run DIR]         keep finished units in DIR: rerunning after a crash or Ctrl-C continues
          generate ... --run DIR --regenerate A-B [--new-story FILE] [--new-seed N]
                                       Redraw frames A..B-1 of a finished run with a new prompt or seed; every frame
                                       outside the (unit-aligned) range stays identical.
                                       Generate a long video from a storyline (see docs for the format); .mp4 needs
                                       ffmpeg, .gif/.y4m/PNG folder need nothing. Also writes one contact sheet per
                                       level (OUT.levelK.png) and OUT.html showing the video and the hierarchy.
        """;

    public static int Run(string[] args, CancellationToken ct)
    {
        var a = new Args("generate", args, new HashSet<string> { "quiet" });
        string storyPath = a.Require("story"), outPath = a.Require("out");
        var global = MtdPipelineParts.Load(a.Get("global") ?? ShippedModels.Global());
        var local = MtdPipelineParts.Load(a.Get("local") ?? ShippedModels.Local());
        var vae = AutoencoderKL.Load(a.Get("vae") ?? ShippedModels.Vae());
        int? frames = a.Get("frames") is { } f ? int.Parse(f, System.Globalization.CultureInfo.InvariantCulture) : null;
        int length = a.Int("length", 16, 3);
        var d = ShippedModels.Sampler;
        var o = new SamplerOptions(a.Int("steps", d.Steps, 1, 1000), (float)a.Double("guidance", d.GuidanceScale, 0), a.Get("sampler") ?? d.Scheduler);
        ulong seed = (ulong)a.Int("seed", 1, 0);
        string scheme = a.Get("scheme") ?? "dod";
        int batch = a.Int("batch", DodPipeline.DefaultBatchSize, 1);
        bool quiet = a.Flag("quiet");
        string? runDir = a.Get("run");
        string? regen = a.Get("regenerate"), newStoryPath = a.Get("new-story");
        ulong newSeed = (ulong)a.Int("new-seed", (int)seed + 1, 0);
        a.CheckAllUsed();
        if (scheme is not ("dod" or "ar")) throw new ArgumentException($"generate: --scheme must be dod or ar, got '{scheme}'.");
        var story = Storyline.Load(storyPath, 24, frames);
        int n = frames ?? story.Frames;
        int size = vae.Config.SampleSize / vae.Config.DownFactor;
        var pipe = new DodPipeline(global, local, vae, size, size) { BatchSize = batch };
        if (regen != null) return Regenerate(pipe, story, newStoryPath, n, length, seed, newSeed, o, runDir, regen, outPath, ct);
        Produce(pipe, story, n, length, seed, o, scheme, runDir, outPath, quiet, ct);
        Console.WriteLine($"wrote {n} frames to {Path.GetFullPath(outPath)}");
        return 0;
    }

    /// <summary>
    /// Generates the video into <paramref name="outPath"/> (any format VideoWriters knows), one contact sheet per level
    /// (OUT.levelK.png) and OUT.html with the video and the hierarchy, with a progress bar per level.
    /// </summary>
    public static void Produce(DodPipeline pipe, Storyline story, int n, int length, ulong seed, SamplerOptions o, string scheme,
        string? runDir, string outPath, bool quiet, CancellationToken ct)
    {
        // One contact sheet per level of the hierarchy: the frames that level generated (at most 48 shown).
        var schedule = new DodSchedule(n, length);
        var stem = Path.ChangeExtension(outPath, null);
        var levelFrames = scheme == "dod"
            ? schedule.Levels.Select(l => l.SelectMany(u => u.Generates).Where(p => p < n).Distinct().OrderBy(p => p).ToList()).ToList()
            : new List<List<int>> { Enumerable.Range(0, n).ToList() };
        var sheets = levelFrames.Select((f, k) =>
        {
            var shown = f.Where((_, i) => i % Math.Max(1, (f.Count + 47) / 48) == 0).ToHashSet();
            return new ContactSheet($"{stem}.level{k + 1}.png", shown, 16);
        }).ToList();
        using (var w = VideoWriters.Create(outPath, 24))
        {
            new ProgressView(quiet).Run(scheme == "dod" ? "diffusion over diffusion" : "autoregressive", p =>
            {
                var relay = new SyncProgress<GenerationProgress>(g => p.Report((g.AllDone, g.AllUnits, $"level {g.Level}/{g.Levels}")));
                // DoD streams: frames are decoded and written while the last level is still being sampled.
                var frames = scheme == "dod"
                    ? pipe.GenerateFrames(story, n, length, seed, o, relay, ct, runDir)
                    : pipe.Decode(pipe.GenerateLatentsAutoregressive(story, n, length, seed, o, relay, ct), n, ct);
                foreach (var t in frames)
                {
                    var frame = Frame.FromTensor(t);
                    w.Write(frame);
                    foreach (var sh in sheets) sh.Write(frame);
                }
                return 0;
            });
            w.Complete();
        }
        foreach (var sh in sheets) { sh.Complete(); sh.Dispose(); }
        HierarchyPage.Write(stem + ".html", $"{n} frames, {scheme}", Path.GetFileName(outPath),
            levelFrames.Select((f, k) => ($"Level {k + 1}: {f.Count} frames" + (k == 0 && scheme == "dod" ? " (global keyframes)" : ""), Path.GetFileName($"{stem}.level{k + 1}.png"))).ToList(),
            story.Segments.Count == 1 ? story.Segments[0].Prompt : $"{story.Segments.Count} story segments");
    }


    private static int Regenerate(DodPipeline pipe, Storyline story, string? newStoryPath, int n, int length, ulong seed, ulong newSeed,
        SamplerOptions o, string? runDir, string range, string outPath, CancellationToken ct)
    {
        if (runDir == null) throw new ArgumentException("generate --regenerate needs the --run folder of the original generation.");
        var parts = range.Split('-');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int from) || !int.TryParse(parts[1], out int to))
            throw new ArgumentException($"generate: --regenerate expects A-B (frames), got '{range}'.");
        var newStory = newStoryPath != null ? Storyline.Load(newStoryPath, 24, n) : story;
        var latents = pipe.LoadRun(runDir, story, n, length, seed, o);
        var (changed, lo, hi) = pipe.Regenerate(latents, newStory, n, length, newSeed, o, from, to, ct);
        using (var w = VideoWriters.Create(outPath, 24))
        {
            foreach (var t in pipe.Decode(changed, n, ct)) w.Write(Frame.FromTensor(t));
            w.Complete();
        }
        Console.WriteLine($"redrew frames {lo}..{hi - 1}; wrote {n} frames to {Path.GetFullPath(outPath)}");
        return 0;
    }
}
