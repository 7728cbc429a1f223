using Longshot.Tensors;

namespace Longshot.Diffusion.TextToVideo;

/// <summary>
/// What one text-to-video run is asked for, with diffusers' TextToVideoSDPipeline defaults: 16 frames, the UNet's
/// sample size times the VAE's factor (256x256 for ModelScope), 50 steps, guidance 9. <see cref="Fps"/> is
/// VideoCrafter2's condition (Video-Infinity runs it at 24).
/// </summary>
public sealed record TextToVideoSettings
{
    public string Prompt { get; init; } = "";
    /// <summary>One prompt per frame instead of <see cref="Prompt"/> (a storyline's segments; null: the prompt for
    /// every frame).</summary>
    public IReadOnlyList<string>? FramePrompts { get; init; }
    /// <summary>What the unconditional half of guidance is told (null: the empty prompt).</summary>
    public string? NegativePrompt { get; init; }
    public int Frames { get; init; } = 16;
    /// <summary>Pixels (null: the UNet's sample_size times the VAE's down factor).</summary>
    public int? Height { get; init; }
    public int? Width { get; init; }
    public int Steps { get; init; } = 50;
    public float GuidanceScale { get; init; } = 9f;
    /// <summary>VideoCrafter2's frame-rate condition (ignored by the other models).</summary>
    public float Fps { get; init; } = 24f;
    /// <summary>Frames the VAE decodes together (null: all, as diffusers does without slicing).</summary>
    public int? DecodeChunkSize { get; init; }
    public ulong Seed { get; init; }

    /// <summary>The prompt of frame <paramref name="f"/>.</summary>
    public string PromptAt(int f) => FramePrompts?[f] ?? Prompt;

    /// <summary>Classifier-free guidance runs when the scale exceeds 1 (as diffusers decides).</summary>
    public bool Guided => GuidanceScale > 1f;

    /// <summary>Largest side Longshot accepts.</summary>
    public const int MaxSide = 4096;

    /// <summary>Checks the settings; a <see cref="SettingException"/> names the setting.</summary>
    public void Validate(int downFactor)
    {
        if (Frames < 1 || Frames > 4096) throw new SettingException("Frames", "frames must be between 1 and 4096.");
        if (FramePrompts != null && FramePrompts.Count != Frames)
            throw new SettingException("FramePrompts", $"{FramePrompts.Count} frame prompts for {Frames} frames.");
        foreach (var (name, side) in new[] { ("height", Height), ("width", Width) })
            if (side is { } s && (s < downFactor || s > MaxSide || s % downFactor != 0))
                throw new SettingException("Size", $"{name} {s} must be a multiple of {downFactor} between " +
                    $"{downFactor} and {MaxSide}.");
        if (Steps < 1 || Steps > 1000) throw new SettingException("Steps", "steps must be between 1 and 1000.");
        if (!(GuidanceScale >= 0 && GuidanceScale <= 100))
            throw new SettingException("GuidanceScale", "guidance must be between 0 and 100.");
        if (NegativePrompt != null && !Guided)
            throw new SettingException("NegativePrompt", "a negative prompt needs guidance above 1 (it is the " +
                "unconditional half of classifier-free guidance).");
        if (!(Fps > 0 && Fps <= 1000)) throw new SettingException("Fps", "fps must be between 0 and 1000.");
        if (DecodeChunkSize is < 1) throw new SettingException("DecodeChunkSize", "the decode chunk must be >= 1.");
    }
}
