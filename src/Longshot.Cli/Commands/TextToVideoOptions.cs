using System.CommandLine;
using System.Diagnostics;
using Longshot.Diffusion.Clips;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.TextToVideo;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Kernels;
using Longshot.Video.Formats;
using Longshot.Video.Imaging;

namespace Longshot.Cli.Commands;

/// <summary>
/// `longshot generate --model DIR --prompt TEXT`: a published text-to-video model (ModelScope, zeroscope,
/// VideoCrafter2) in its diffusers folder, with diffusers' TextToVideoSDPipeline defaults (16 frames, the model's
/// size, 50 steps, guidance 9). The size, variant, decode chunk and latents options are the image-to-video ones.
/// </summary>
internal sealed class TextToVideoOptions
{
    private static readonly TextToVideoSettings Defaults = new();

    /// <summary>Frames when --frames is not given (diffusers' default).</summary>
    public static int DefaultFrames => Defaults.Frames;

    /// <summary>Frames the VAE decodes at once in a clip-parallel run when --decode-chunk-size is not given (a long
    /// video's frames all at once would not fit).</summary>
    private const int ClipDecodeChunk = 8;

    public Option<string?> NegativePrompt { get; } = CliOptions.Text("--negative-prompt", "--model (text-to-video): " +
        "what the unguided half of classifier-free guidance is told (default: the empty prompt)", "TEXT");
    public Option<string> Solver { get; } = CliOptions.Choice("--solver", "--model (text-to-video): the sampler: " +
        "the folder's scheduler_config.json, DDIM, DPM-Solver++ or its stochastic SDE-DPM-Solver++ (built from the " +
        "folder's config, as diffusers' from_config does)", "folder", "ddim", "dpm++", "sde-dpm++");
    public Option<bool> Karras { get; } = CliOptions.Flag("--karras", "--model (text-to-video), with --solver dpm++ " +
        "or sde-dpm++: Karras et al.'s sigmas");

    public Option[] All => new Option[] { NegativePrompt, Solver, Karras };

    /// <summary>Runs the published model; the shared options are passed in.</summary>
    /// <param name="clips">Clip parallelism's settings (--scheme clips), or null for the pipeline as published.
    /// </param>
    public int Run(ParseResult p, ImageToVideoOptions shared, string modelDir, TextToVideoText text, string outPath,
        int? frames, int? steps, double? guidance, int? fps, ulong seed, string? runDir, bool quiet,
        ClipSettings? clips, CancellationToken ct)
    {
        VideoWriters.CheckPath(outPath, "--out");
        if (runDir != null && File.Exists(runDir))
            throw new LongshotException($"--run: {runDir} is a file, not a folder.");
        var pipe = TextToVideoPipeline.Load(modelDir, p.GetValue(shared.Variant));
        pipe.SchedulerConfig = Sampler(pipe.SchedulerConfig, p.GetValue(Solver)!, p.GetValue(Karras));
        pipe.Warning = m => Console.Error.WriteLine($"--prompt: {m}");
        var (width, height) = p.GetValue(shared.Size) is { } size ? ImageToVideoOptions.ParseSize(size) : (0, 0);
        // ModelScope's videos are written at 8 fps (diffusers' export_to_video); VideoCrafter2 is told 24.
        int rate = fps ?? (pipe.Unet.Config.HasFps ? 24 : 8);
        var settings = new TextToVideoSettings
        {
            Prompt = text.Prompt, FramePrompts = text.FramePrompts, NegativePrompt = p.GetValue(NegativePrompt),
            Frames = frames ?? Defaults.Frames,
            Width = width == 0 ? null : width, Height = height == 0 ? null : height, Steps = steps ?? Defaults.Steps,
            GuidanceScale = (float)(guidance ?? Defaults.GuidanceScale), Fps = rate,
            DecodeChunkSize = p.GetValue(shared.DecodeChunk), Seed = seed,
        };
        settings.Validate(pipe.Vae.Config.DownFactor);
        var noise = p.GetValue(shared.Latents) is { } path ? new TextToVideoNoise(LoadLatents(path)) : null;
        var clock = Stopwatch.StartNew();
        var progress = quiet || !JobRanks.IsLeader ? null : new SyncProgress<StepProgress>(s =>
            Console.Error.WriteLine($"{s.Stage} {s.Done}/{s.Total} ({clock.Elapsed.TotalSeconds:F1} s)"));
        Tensor video;
        if (clips != null)
        {
            var comm = JobRanks.Current;
            var layout = clips.Validate(settings.Frames).Layout(settings.Frames);
            if (!quiet && JobRanks.IsLeader)
                Console.Error.WriteLine($"{layout.Clips} clips of {layout.ShortestClip}+ frames on {comm.Size} " +
                    $"rank{(comm.Size == 1 ? "" : "s")} ({Threads.Count} threads each)");
            var (latents, bytes) = TextToVideoClips.Denoise(pipe, settings, clips, comm, noise, progress, ct, runDir,
                m => Console.Error.WriteLine($"--run: {m}"));
            if (!JobRanks.IsLeader) return 0;
            if (!quiet) Console.Error.WriteLine($"clips on this rank received {bytes / 1e6:F1} MB from other clips");
            video = pipe.Decode(latents, settings.DecodeChunkSize ?? ClipDecodeChunk, progress, ct);
        }
        else video = pipe.Generate(settings, noise, progress, ct, runDir);
        using (var writer = VideoWriters.Create(outPath, rate))
        {
            for (int f = 0; f < video.Shape[0]; f++) writer.Write(Frame.FromTensor(video.Narrow(0, f, 1).Squeeze(0)));
            writer.Complete();
        }
        Console.WriteLine($"wrote {video.Shape[0]} frames ({video.Shape[3]}x{video.Shape[2]}) to " +
            $"{Path.GetFullPath(outPath)} in {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    /// <summary>The folder's scheduler, or another built from its config.</summary>
    private static DiffusersSchedulerConfig Sampler(DiffusersSchedulerConfig folder, string solver, bool karras)
    {
        if (karras && solver is not ("dpm++" or "sde-dpm++"))
            throw new LongshotException("--karras: Karras sigmas go with --solver dpm++ or sde-dpm++.");
        return solver switch
        {
            "folder" => folder,
            "ddim" => folder with { ClassName = DiffusersSchedulerConfig.Ddim },
            _ => folder with
            {
                ClassName = DiffusersSchedulerConfig.DpmSolver, UseKarrasSigmas = karras,
                AlgorithmType = solver == "dpm++" ? "dpmsolver++" : "sde-dpmsolver++",
            },
        };
    }

    private static Tensor LoadLatents(string path)
    {
        if (!File.Exists(path)) throw new LongshotException($"--latents: {path} not found.");
        return SafeTensors.Load(path).TryGetValue("latents", out var latents) ? latents
            : throw new LongshotException($"--latents: {path} has no tensor named 'latents'.");
    }
}

/// <summary>What a text-to-video run is told: one prompt, or a storyline's prompt for each frame (the first frame's
/// then stands as the prompt).</summary>
internal sealed record TextToVideoText(string Prompt, IReadOnlyList<string>? FramePrompts);
