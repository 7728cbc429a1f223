using System.Text.Json;
using System.Text.Json.Nodes;
using Longshot.Diffusion;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schemes;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Svd;
using Longshot.Diffusion.TextToVideo;
using Longshot.Tensors;

namespace Longshot.Studio;

/// <summary>What a client asks for: a storyline and the settings of a generation, or a range of a finished job to
/// redraw.</summary>
public sealed record JobSpec
{
    public string Story { get; init; } = "";
    public int Frames { get; init; }
    public string Scheme { get; init; } = "dod";
    public int Steps { get; init; } = ShippedModels.Sampler.Steps;
    /// <summary>Denoising steps of the global model's units, the keyframes (0: <see cref="Steps"/>).</summary>
    public int GlobalSteps { get; init; } = ShippedModels.Sampler.GlobalSteps;
    public double Guidance { get; init; } = ShippedModels.Sampler.GuidanceScale;
    public string Sampler { get; init; } = "dpm++";
    /// <summary>Units between given frames start from them blended along time at this share of the schedule.</summary>
    public double FillStart { get; init; } = ShippedModels.Sampler.FillStart;
    /// <summary>Slots over which such units ease into their given frames.</summary>
    public int FillEase { get; init; } = ShippedModels.Sampler.FillEase;
    public ulong Seed { get; init; } = 1;
    /// <summary>Model folders relative to the workspace (null: the shipped models).</summary>
    public string? Global { get; init; }
    public string? Local { get; init; }

    /// <summary>A published model folder relative to the workspace (e.g. models/svd-xt): an image-to-video one
    /// animates <see cref="Image"/>, a text-to-video one follows <see cref="Prompt"/>, instead of a storyline.
    /// </summary>
    public string? Model { get; init; }
    /// <summary>Image-to-video: the first frame, a PNG as base64, when submitted; the stored job keeps it as
    /// init.png in its folder instead.</summary>
    public string? Image { get; init; }
    /// <summary>Size and frame rate of a published model's video (null: the pipeline's default; for
    /// text-to-video, the model's size, and 8 fps, or VideoCrafter2's 24).</summary>
    public int? Width { get; init; }
    public int? Height { get; init; }
    public int? Fps { get; init; }
    public int MotionBucket { get; init; } = new SvdSettings().MotionBucketId;
    public double NoiseAug { get; init; } = new SvdSettings().NoiseAugStrength;
    public double MinGuidance { get; init; } = new SvdSettings().MinGuidance;
    public double MaxGuidance { get; init; } = new SvdSettings().MaxGuidance;

    /// <summary>The image-to-video settings of this spec; a <see cref="SettingException"/> names a bad one.</summary>
    public SvdSettings ImageToVideo(int maxFrames)
    {
        if (Frames < 1 || Frames > Math.Min(maxFrames, 1024))
            throw new SettingException(nameof(Frames), $"must be between 1 and {Math.Min(maxFrames, 1024)}, got " +
                $"{Frames}.");
        if (Seed > long.MaxValue) throw new SettingException(nameof(Seed), "is too large.");
        var defaults = new SvdSettings();
        var settings = new SvdSettings
        {
            Frames = Frames, Width = Width ?? defaults.Width, Height = Height ?? defaults.Height, Steps = Steps,
            Fps = Fps ?? defaults.Fps, MotionBucketId = MotionBucket,
            NoiseAugStrength = (float)NoiseAug, MinGuidance = (float)MinGuidance, MaxGuidance = (float)MaxGuidance,
            Seed = Seed,
        };
        settings.Validate(8);
        return settings;
    }

    /// <summary>Text-to-video: the prompt (and the negative prompt) for a published text-to-video <see cref="Model"/>;
    /// the size is <see cref="Width"/> x <see cref="Height"/>, <see cref="Guidance"/> the guidance scale and
    /// <see cref="Fps"/> the video's frame rate (VideoCrafter2's condition).</summary>
    public string? Prompt { get; init; }
    public string? NegativePrompt { get; init; }

    /// <summary>The text-to-video settings of this spec; a <see cref="SettingException"/> names a bad one.</summary>
    public TextToVideoSettings TextToVideo(int maxFrames)
    {
        if (Frames < 1 || Frames > Math.Min(maxFrames, 1024))
            throw new SettingException(nameof(Frames), $"must be between 1 and {Math.Min(maxFrames, 1024)}, got " +
                $"{Frames}.");
        if (string.IsNullOrWhiteSpace(Prompt))
            throw new SettingException(nameof(Prompt), "write what the video shows.");
        if (Prompt.Length > 2000 || NegativePrompt?.Length > 2000)
            throw new SettingException(nameof(Prompt), "is longer than 2,000 characters.");
        if (Seed > long.MaxValue) throw new SettingException(nameof(Seed), "is too large.");
        var settings = new TextToVideoSettings
        {
            Prompt = Prompt, NegativePrompt = string.IsNullOrWhiteSpace(NegativePrompt) ? null : NegativePrompt,
            Frames = Frames, Width = Width, Height = Height, Steps = Steps, GuidanceScale = (float)Guidance,
            Fps = Fps ?? new TextToVideoSettings().Fps,
            Seed = Seed,
        };
        settings.Validate(8);
        return settings;
    }

    /// <summary>Redraw: the job whose frames [From, To) are redrawn (with this spec's story and seed).</summary>
    public string? Parent { get; init; }
    public int From { get; init; }
    public int To { get; init; }

    /// <summary>
    /// A spec as the job history stored it. A setting the studio gained after the job was stored takes the value the
    /// job ran with then (the sampler's behaviour before the setting existed), so resuming an older job reuses the
    /// units it saved instead of recomputing them.
    /// </summary>
    public static JobSpec FromStored(string json)
    {
        var stored = JsonNode.Parse(json)!.AsObject();
        var spec = stored.Deserialize<JobSpec>()!;
        var before = new SamplerOptions(); // the record's defaults: each setting off, as before it existed
        if (!stored.ContainsKey(nameof(FillStart))) spec = spec with { FillStart = before.FillStart };
        if (!stored.ContainsKey(nameof(FillEase))) spec = spec with { FillEase = before.FillEase };
        if (!stored.ContainsKey(nameof(GlobalSteps))) spec = spec with { GlobalSteps = before.GlobalSteps };
        return spec;
    }

    /// <summary>The generation this spec describes; throws <see cref="LongshotException"/> naming the
    /// problem.</summary>
    public GenerationRequest Request(int maxFrames, string? runDir)
    {
        if (Frames < 1 || Frames > maxFrames)
            throw new SettingException(nameof(Frames), $"must be between 1 and {maxFrames}, got {Frames}.");
        if (Story.Length > 100_000)
            throw new SettingException(nameof(Story), "the storyline is longer than 100,000 characters.");
        var scheme = GenerationSchemes.TryParse(Scheme) is { OnStoryModels: true } known
            ? known : throw new SettingException(nameof(Scheme), $"must be one of " +
                $"{string.Join(", ", GenerationSchemes.OnStoryModels.Select(s => s.Name))}.");
        if (!Scheduler.Names.Contains(Sampler))
            throw new SettingException("Scheduler", $"must be one of {string.Join(", ", Scheduler.Names)}.");
        if (Seed > long.MaxValue) throw new SettingException(nameof(Seed), "is too large.");
        var story = Storyline.Parse(Story, Storyline.DefaultFps, Frames, "storyline");
        return new GenerationRequest(story, Frames)
        {
            Scheme = scheme, Seed = Seed,
            Sampler = SamplerOptions.Shipped with
            {
                Steps = Steps, GuidanceScale = (float)Guidance, Scheduler = Sampler, FillStart = (float)FillStart,
                FillEase = FillEase, GlobalSteps = GlobalSteps,
            },
            RunDir = scheme.Resumes ? runDir : null,
        }.Validate();
    }
}
