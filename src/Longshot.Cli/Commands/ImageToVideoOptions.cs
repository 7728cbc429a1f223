using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Longshot.Diffusion.Clips;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Svd;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Video.Formats;
using Longshot.Video.Imaging;

namespace Longshot.Cli.Commands;

/// <summary>
/// `longshot generate --model DIR --init-image PNG`: a published image-to-video model (Stable Video Diffusion) in its
/// diffusers folder. The options are diffusers' StableVideoDiffusionPipeline arguments, with its defaults.
/// </summary>
internal sealed class ImageToVideoOptions
{
    private static readonly SvdSettings Defaults = new();

    public Option<string?> Model { get; } = CliOptions.Text("--model",
        "a published model folder (diffusers layout; docs/published-models.md) instead of the Toonworld models: " +
        "image-to-video (Stable Video Diffusion) on --init-image, text-to-video (ModelScope, zeroscope, " +
        "VideoCrafter2) on --prompt", "DIR");
    public Option<string?> Size { get; } = CliOptions.Text("--size",
        $"--model: video size WxH, multiples of 8 (default {Defaults.Width}x{Defaults.Height})", "WxH");
    public Option<int> Fps { get; } = CliOptions.Int("--fps", "--model: frame rate of the video (the model is told " +
        "fps - 1)", Defaults.Fps, 1, 240);
    public Option<int> MotionBucket { get; } = CliOptions.Int("--motion-bucket", "--model: motion bucket id (more is " +
        "more motion)", Defaults.MotionBucketId, 0, 1023);
    public Option<double> NoiseAug { get; } = CliOptions.Number("--noise-aug", "--model: noise added to the " +
        "conditioning image", Defaults.NoiseAugStrength, 0, 10);
    public Option<double> MinGuidance { get; } = CliOptions.Number("--min-guidance", "--model: guidance at the " +
        "first frame", Defaults.MinGuidance, 0, 50);
    public Option<double> MaxGuidance { get; } = CliOptions.Number("--max-guidance", "--model: guidance at the last " +
        "frame (classifier-free guidance runs when above 1)", Defaults.MaxGuidance, 0, 50);
    public Option<int?> DecodeChunk { get; } = CliOptions.OptionalInt("--decode-chunk-size", "--model: frames the " +
        "VAE decodes together (default: all; fewer use less memory)", 1, 1024);
    public Option<string?> Latents { get; } = CliOptions.Text("--latents", "--model: safetensors with the initial " +
        "'latents' [1, F, 4, H/8, W/8] (and optionally 'image_noise' [1, 3, H, W]) instead of drawing them from " +
        "--seed", "FILE");
    public Option<string?> Variant { get; } = CliOptions.Text("--variant", "--model: weights variant, e.g. fp16 " +
        "(default: full precision, or the only variant present)", "NAME");
    public Option<string?> Extension { get; } = CliOptions.Text("--extension", "--model: an ExVideo extension " +
        "(e.g. ExVideo-SVD-128f-v1's model.fp16.safetensors) on top of the UNet; then --frames defaults to its " +
        $"frames and --size to {ExtendedWidth}x{ExtendedHeight}, as its authors' example runs", "FILE");

    /// <summary>The size ExVideo's authors generate at with the 128-frame extension.</summary>
    private const int ExtendedWidth = 512, ExtendedHeight = 512;

    public Option[] All => new Option[] { Model, Size, Fps, MotionBucket, NoiseAug, MinGuidance, MaxGuidance,
        DecodeChunk, Latents, Variant, Extension };

    /// <summary>Runs the published model; the shared options (frames, steps, seed, run folder) are passed in.</summary>
    /// <param name="clips">Clip parallelism's settings for a video of so many frames (--scheme clips), or null
    /// for the pipeline as published.</param>
    public int Run(ParseResult p, string modelDir, string? imagePath, string outPath, int? frames, int? steps,
        ulong seed, string? runDir, bool quiet, Func<int, ClipSettings?> clips, CancellationToken ct)
    {
        if (imagePath == null)
            throw new LongshotException("--init-image: an image-to-video model needs the first frame (a PNG).");
        VideoWriters.CheckPath(outPath, "--out");
        string? extension = p.GetValue(Extension);
        var (width, height) = p.GetValue(Size) == null && extension != null ? (ExtendedWidth, ExtendedHeight)
            : ParseSize(p.GetValue(Size));
        var settings = new SvdSettings
        {
            Frames = frames, Width = width, Height = height, Steps = steps ?? Defaults.Steps, Fps = p.GetValue(Fps),
            MotionBucketId = p.GetValue(MotionBucket), NoiseAugStrength = (float)p.GetValue(NoiseAug),
            MinGuidance = (float)p.GetValue(MinGuidance), MaxGuidance = (float)p.GetValue(MaxGuidance),
            DecodeChunkSize = p.GetValue(DecodeChunk), Seed = seed,
        };
        var image = LoadImage(imagePath);
        var pipe = SvdPipeline.Load(modelDir, p.GetValue(Variant), extension);
        if (extension != null) settings = settings with { Frames = frames ?? pipe.Unet.Config.ExtensionFrames };
        pipe.Validate(settings);
        var noise = p.GetValue(Latents) is { } latentsPath ? LoadNoise(latentsPath, settings, pipe) : null;
        var clock = Stopwatch.StartNew();
        var progress = quiet || !JobRanks.IsLeader ? null : new SyncProgress<StepProgress>(s =>
            Console.Error.WriteLine($"{s.Stage} {s.Done}/{s.Total} ({clock.Elapsed.TotalSeconds:F1} s)"));
        Tensor video;
        if (clips(settings.Frames ?? pipe.Unet.Config.NumFrames) is { } clipSettings)
        {
            var (latents, bytes) = SvdClips.Denoise(pipe, image, settings, clipSettings, JobRanks.Current, noise,
                progress, ct, runDir, m => Console.Error.WriteLine($"--run: {m}"));
            if (!JobRanks.IsLeader) return 0;
            if (!quiet) Console.Error.WriteLine($"clips on this rank received {bytes / 1e6:F1} MB from other clips");
            video = pipe.Decode(latents, settings.DecodeChunkSize ?? ClipDecodeChunk, progress, ct);
        }
        else video = pipe.Generate(image, settings, noise, progress, ct, runDir);
        using (var writer = VideoWriters.Create(outPath, settings.Fps))
        {
            for (int f = 0; f < video.Shape[0]; f++) writer.Write(Frame.FromTensor(video.Narrow(0, f, 1).Squeeze(0)));
            writer.Complete();
        }
        Console.WriteLine($"wrote {video.Shape[0]} frames ({settings.Width}x{settings.Height}) to " +
            $"{Path.GetFullPath(outPath)} in {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    /// <summary>Frames the temporal VAE decodes at once in a clip-parallel run when --decode-chunk-size is not given
    /// (a long video's frames all at once would not fit).</summary>
    private const int ClipDecodeChunk = 14;

    internal static (int Width, int Height) ParseSize(string? text)
    {
        if (text == null) return (Defaults.Width, Defaults.Height);
        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int w)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h))
            return (w, h);
        throw new SettingException("Size", $"expects WIDTHxHEIGHT, e.g. 1024x576, got '{text}'.");
    }

    /// <summary>A PNG as [3, H, W] in [-1, 1].</summary>
    private static Tensor LoadImage(string path)
    {
        if (!File.Exists(path)) throw new LongshotException($"--init-image: {path} not found.");
        try { return Png.Load(path).ToTensor(); }
        catch (Exception e) when (e is InvalidDataException or IOException or LongshotException)
        {
            throw new LongshotException($"--init-image: {path} is not a readable PNG ({e.Message.TrimEnd('.')}).");
        }
    }

    private static SvdNoise LoadNoise(string path, SvdSettings settings, SvdPipeline pipe)
    {
        if (!File.Exists(path)) throw new LongshotException($"--latents: {path} not found.");
        var tensors = SafeTensors.Load(path);
        if (!tensors.TryGetValue("latents", out var latents))
            throw new LongshotException($"--latents: {path} has no tensor named 'latents'.");
        var imageNoise = tensors.TryGetValue("image_noise", out var n) ? n
            : Tensor.Randn(new Rng(settings.Seed), 1, 3, settings.Height, settings.Width);
        if (!imageNoise.Shape.SequenceEqual(new[] { 1, 3, settings.Height, settings.Width }))
            throw new LongshotException($"--latents: 'image_noise' in {path} is not [1, 3, {settings.Height}, " +
                $"{settings.Width}].");
        int frames = settings.Frames ?? pipe.Unet.Config.NumFrames, down = pipe.Vae.Config.DownFactor;
        var want = new[] { 1, frames, pipe.Vae.Config.LatentChannels, settings.Height / down, settings.Width / down };
        if (!latents.Shape.SequenceEqual(want))
            throw new LongshotException($"--latents: 'latents' in {path} is [{string.Join(", ", latents.Shape)}], " +
                $"not [{string.Join(", ", want)}] (--frames and --size).");
        return new SvdNoise(latents, imageNoise);
    }
}
