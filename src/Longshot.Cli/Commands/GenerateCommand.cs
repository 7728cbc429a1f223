using System.CommandLine;
using System.Globalization;
using Longshot.Diffusion.Clips;
using Longshot.Diffusion.Families;
using Longshot.Diffusion.Output;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Tensors;
using Longshot.Video.Formats;

namespace Longshot.Cli.Commands;

/// <summary>`longshot generate`: storyline in, long video out (diffusion over diffusion, clip parallelism, or the AR
/// baseline).</summary>
internal static class GenerateCommand
{
    private static readonly Option<string?> Story = CliOptions.Text("--story",
        "storyline file: 'START-END: prompt' per line (or --prompt)", "FILE");
    private static readonly Option<string?> Prompt = CliOptions.Text("--prompt",
        "one prompt for every frame, instead of --story (with --frames, default 16)", "TEXT");
    private static readonly Option<string?> InitImage = CliOptions.Text("--init-image",
        "--scheme extended: the first frame, a PNG of the VAE's frame size", "FILE");
    private static readonly Option<string?> Out = CliOptions.Text("--out",
        "video to write: .mp4 (needs ffmpeg), .gif, .y4m, or a folder of PNGs; " +
        "OUT.levelK.png and OUT.html are written beside it", "FILE", true);
    private static readonly Option<int?> Frames = CliOptions.OptionalInt("--frames",
        "frames to generate (default: the story's length)", 1, GenerationRequest.MaxFrames);
    private static readonly Option<string?> Run = CliOptions.Text("--run",
        "keep finished units in DIR: rerunning after a crash, Ctrl-C or SIGTERM continues", "DIR");
    private static readonly Option<(int From, int To)?> Regenerate = new("--regenerate")
    {
        Description = "redraw frames A..B-1 of the finished --run with --new-story and/or --new-seed; every frame " +
            "outside the range stays identical",
        HelpName = "A-B", CustomParser = ParseRange,
    };
    private static readonly Option<string?> NewStory = CliOptions.Text("--new-story",
        "storyline for the redrawn range (default: --story)", "FILE");
    private static readonly Option<ulong?> NewSeed = new("--new-seed") { Description = "seed of the redrawn range " +
        "(default: --seed + 1)", HelpName = "N" };

    public static Command Create()
    {
        var m = new ModelOptions();
        var s = new SamplingOptions();
        var clips = new ClipOptions();
        var batch = CliOptions.Int("--batch", "units per model call", LongVideoPipeline.DefaultBatchSize, 1, 64);
        var quiet = CliOptions.Flag("--quiet", "no progress output");
        var i2v = new ImageToVideoOptions();
        var t2v = new TextToVideoOptions();
        var c = new Command("generate", "Generate a long video from a storyline (docs/diffusion.md for the format), " +
                "or a video from an image with a published model (--model).")
            .With(Story, Prompt, InitImage, Out, Frames).With(m.All).With(s.All).With(clips.All)
            .With(batch, Run, Regenerate, NewStory, NewSeed, quiet).With(i2v.All).With(t2v.All);
        return c.Runs((p, ct) =>
        {
            string? storyPath = p.GetValue(Story), prompt = p.GetValue(Prompt);
            string outPath = p.GetValue(Out)!;
            int? frames = p.GetValue(Frames);
            if (p.GetValue(i2v.Model) is { } modelDir)
            {
                int? steps = p.GetResult(s.Steps) is { Implicit: false } ? p.GetValue(s.Steps) : null;
                if (ModelFamilies.Find(modelDir) is TextToVideoPipelineFamily)
                {
                    if ((storyPath == null) == (prompt == null))
                        throw new LongshotException("a text-to-video model needs --prompt TEXT or --story FILE (one " +
                            "of them).");
                    string[]? framePrompts = null;
                    if (storyPath != null)
                    {
                        var segments = Storyline.Load(storyPath, Storyline.DefaultFps, frames);
                        frames ??= segments.Frames;
                        framePrompts = Enumerable.Range(0, frames.Value).Select(segments.PromptAt).ToArray();
                    }
                    double? guidance = p.GetResult(s.Guidance) is { Implicit: false } ? p.GetValue(s.Guidance) : null;
                    int? fps = p.GetResult(i2v.Fps) is { Implicit: false } ? p.GetValue(i2v.Fps) : null;
                    var text = new TextToVideoText(prompt ?? framePrompts![0], framePrompts);
                    return t2v.Run(p, i2v, modelDir, text, outPath, frames, steps, guidance, fps,
                        p.GetValue(s.Seed), p.GetValue(Run), p.GetValue(quiet),
                        PublishedClips(p, s, clips, frames ?? TextToVideoOptions.DefaultFrames), ct);
                }
                if (storyPath != null || prompt != null)
                    throw new LongshotException("--model: an image-to-video model takes --init-image, not --story or " +
                        "--prompt.");
                return i2v.Run(p, modelDir, p.GetValue(InitImage), outPath, frames, steps, p.GetValue(s.Seed),
                    p.GetValue(Run), p.GetValue(quiet), length => PublishedClips(p, s, clips, length), ct);
            }
            if ((storyPath == null) == (prompt == null))
                throw new LongshotException("give the video's text as --story FILE or as --prompt TEXT (one of them).");
            string? runDir = p.GetValue(Run);
            VideoWriters.CheckPath(outPath, "--out");
            if (runDir != null && File.Exists(runDir))
                throw new LongshotException($"--run: {runDir} is a file, not a folder.");
            var story = storyPath != null ? Storyline.Load(storyPath, Storyline.DefaultFps, frames)
                : Storyline.FromFramePrompts(Enumerable.Repeat(prompt!, frames ?? 16).ToArray());
            var request = clips.Apply(p, s.Request(p, story, frames ?? story.Frames) with { RunDir = runDir });
            if (p.GetValue(InitImage) is { } path)
            {
                var image = LoadImage(path);
                request = request with
                {
                    Scheme = request.Scheme is Extended extended ? extended with { FirstFrame = image }
                        : throw new LongshotException("--init-image: an initial image is given to the extended " +
                            "scheme only (--scheme extended)."),
                };
            }
            request.Validate();
            GenerationView.CheckRanks(request);
            if (JobRanks.Distributed && p.GetValue(Regenerate) != null)
                throw new LongshotException("--regenerate runs in one process: run it without mpirun.");
            if (p.GetValue(Regenerate) is { } range)
            {
                if (!request.Scheme.Redraws)
                    throw new LongshotException($"--regenerate: a range can be redrawn only in a " +
                        "diffusion-over-diffusion run (--scheme dod).");
                var newStory = p.GetValue(NewStory) is { } ns
                    ? Storyline.Load(ns, Storyline.DefaultFps, request.Frames) : story;
                var redraw = request with { Story = newStory, Seed = p.GetValue(NewSeed) ?? request.Seed + 1,
                    RunDir = null };
                redraw.Validate();
                var pipe = m.Load(p);
                var latents = pipe.LoadRun(request);
                pipe.BatchSize = p.GetValue(batch);
                var g = pipe.Regenerate(latents, redraw, range.From, range.To, ct);
                GenerationOutput.Write(LongVideoPipeline.Plan(request), pipe.DecodeRegeneration(g, ct), outPath,
                    GenerationOutput.Caption(newStory));
                Console.WriteLine($"redrew frames {g.Lo}..{g.Hi - 1}; wrote {request.Frames} frames to " +
                    $"{Path.GetFullPath(outPath)}");
                return 0;
            }
            var pipeline = m.Load(p, extended: !request.Scheme.OnStoryModels);
            pipeline.BatchSize = p.GetValue(batch);
            if (!GenerationView.UseRanks(pipeline, request, p.GetValue(quiet), ct)) return 0;
            GenerationView.Produce(pipeline, request, outPath, p.GetValue(quiet), ct);
            Console.WriteLine($"wrote {request.Frames} frames to {Path.GetFullPath(outPath)}");
            return 0;
        });
    }

    /// <summary>
    /// A published model's clip settings when `--scheme clips` is given (Video-Infinity over it), else null; another
    /// scheme, clip options without it, or mpirun without it are refused.
    /// </summary>
    private static ClipSettings? PublishedClips(ParseResult p, SamplingOptions s, ClipOptions clips, int frames)
    {
        bool clipScheme = p.GetResult(s.Scheme) is { Implicit: false };
        if (clipScheme && p.GetValue(s.Scheme) != new ClipParallel().Name)
            throw new LongshotException($"--scheme {p.GetValue(s.Scheme)}: a published model runs its own " +
                "pipeline, or clip parallelism with --scheme clips.");
        if (!clipScheme && clips.FirstGiven(p) is { } given)
            throw new LongshotException($"{given.Name} applies to --scheme clips only.");
        if (!clipScheme && JobRanks.Distributed)
            throw new LongshotException("a published model runs over MPI ranks with --scheme clips only; run it " +
                "without mpirun.");
        return clipScheme ? clips.Settings(p, frames) : null;
    }

    /// <summary>A PNG as a [3, H, W] tensor in [-1, 1].</summary>
    private static Tensor LoadImage(string path)
    {
        if (!File.Exists(path)) throw new LongshotException($"--init-image: {path} not found.");
        try { return Longshot.Video.Formats.Png.Load(path).ToTensor(); }
        catch (Exception e) when (e is InvalidDataException or IOException or LongshotException)
        {
            throw new LongshotException($"--init-image: {path} is not a readable PNG ({e.Message.TrimEnd('.')}).");
        }
    }

    private static (int From, int To)? ParseRange(System.CommandLine.Parsing.ArgumentResult r)
    {
        var s = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        var parts = s.Split('-');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int a)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int b) && a < b)
            return (a, b);
        r.AddError($"--regenerate expects A-B with frames A < B, got '{s}'.");
        return null;
    }
}
